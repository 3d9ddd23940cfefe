#pragma once
// MetricChart: one live chart of the watch page: a few line series over a shared x axis, a linear
// or logarithmic y axis, rubber-band zoom (drag), keyboard pan and zoom (arrows, + and -, Home to
// see everything) and markers with tooltips for the job's events.
//
// Long histories: the chart keeps every point, and hands Qt Charts at most four per pixel column of
// the visible x range (the first, lowest, highest and last point of each column), in one replace()
// per series. That draws the same picture as all the points (every spike keeps its height, nothing
// is averaged away), and a job of 100,000 steps redraws in milliseconds; zooming in recomputes the
// columns, so the detail appears as the range narrows.
#include <QChartView>
#include <QList>
#include <QPointF>

class QAbstractAxis;
class QAbstractSeries;
class QLineSeries;
class QScatterSeries;

namespace raven::console {

class MetricChart : public QChartView {
    Q_OBJECT
public:
    // `events`: the chart shows event markers (setMarkers) and says so in its legend.
    MetricChart(const QString& title, const QString& yTitle, bool events = false, QWidget* parent = nullptr);

    // Adds a line series; returns its index. `faded` draws it light behind the others.
    int addLine(const QString& name, const QColor& color, bool faded = false, bool dashed = false);
    void setPoints(int series, const QList<QPointF>& points);
    // Markers on the chart with a tooltip each (events).
    void setMarkers(const QList<QPointF>& points, const QStringList& tips);
    void setXTitle(const QString& title);
    void setLogY(bool on);
    // Fits the axes to the data (unless the person zoomed in; Home fits again) and draws what
    // setPoints() gave; call it after a round of setPoints().
    void fitAxes();
    // Every point of the series (what was set), and what is handed to Qt Charts now.
    int pointCount(int series) const;
    int drawnPointCount(int series) const;
    const QList<QPointF>& points(int series) const { return full_[series]; }

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void attach(QAbstractSeries* series);
    void rebuildYAxis();
    // Hands the visible part of every series to Qt Charts, a few points per pixel column.
    void render();

    QList<QList<QPointF>> full_;  // every point of each line, as set (log scale: only y > 0)
    QList<QLineSeries*> lines_;
    QScatterSeries* markers_ = nullptr;
    QStringList markerTips_;
    QAbstractAxis* x_ = nullptr;
    QAbstractAxis* y_ = nullptr;
    QString yTitle_;
    bool logY_ = false;
    bool zoomed_ = false;
    bool fitting_ = false;  // fitAxes() is moving the axes: one render() at its end
};

}  // namespace raven::console

#pragma once
// MetricChart: one live chart of the watch page: a few line series over a shared x axis, a linear
// or logarithmic y axis, rubber-band zoom (drag), keyboard pan and zoom (arrows, + and -, Home to
// see everything) and markers with tooltips for the job's events. Points are replaced in one call
// per series (QXYSeries::replace), so a long history redraws without being re-added point by point.
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
    MetricChart(const QString& title, const QString& yTitle, QWidget* parent = nullptr);

    // Adds a line series; returns its index. `faded` draws it light behind the others.
    int addLine(const QString& name, const QColor& color, bool faded = false, bool dashed = false);
    void setPoints(int series, const QList<QPointF>& points);
    // Markers on the chart with a tooltip each (events).
    void setMarkers(const QList<QPointF>& points, const QStringList& tips);
    void setXTitle(const QString& title);
    void setLogY(bool on);
    // Fits the axes to the data (unless the person zoomed in; Home fits again).
    void fitAxes();
    int pointCount(int series) const;

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void attach(QAbstractSeries* series);
    void rebuildYAxis();

    QList<QLineSeries*> lines_;
    QScatterSeries* markers_ = nullptr;
    QStringList markerTips_;
    QAbstractAxis* x_ = nullptr;
    QAbstractAxis* y_ = nullptr;
    QString yTitle_;
    bool logY_ = false;
    bool zoomed_ = false;
};

}  // namespace raven::console

#include "MetricChart.h"

#include <QCursor>
#include <QKeyEvent>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>
#include <algorithm>
#include <cmath>
#include <limits>

namespace raven::console {

MetricChart::MetricChart(const QString& title, const QString& yTitle, bool events, QWidget* parent)
    : QChartView(new QChart, parent), yTitle_(yTitle) {
    chart()->setTitle(title);
    chart()->legend()->setAlignment(Qt::AlignBottom);
    chart()->setMargins(QMargins(4, 4, 4, 4));
    setRenderHint(QPainter::Antialiasing);
    setRubberBand(QChartView::RectangleRubberBand);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(320, 220);
    auto* x = new QValueAxis;
    x->setLabelFormat("%g");
    x_ = x;
    chart()->addAxis(x_, Qt::AlignBottom);
    // Zoom and pan change the visible range: hand Qt Charts the columns of the new range.
    connect(x, &QValueAxis::rangeChanged, this, [this] {
        if (!fitting_) render();
    });
    if (events) {
        markers_ = new QScatterSeries;
        markers_->setName(tr("events"));
        markers_->setMarkerSize(9);
        markers_->setColor(QColor(230, 120, 0));
        markers_->setBorderColor(Qt::white);
        chart()->addSeries(markers_);
        connect(markers_, &QScatterSeries::hovered, this, [this](const QPointF& p, bool on) {
            if (!on) return QToolTip::hideText();
            const auto points = markers_->points();
            for (int i = 0; i < points.size(); ++i)
                if (points[i] == p && i < markerTips_.size()) QToolTip::showText(QCursor::pos(), markerTips_[i], this);
        });
    }
    rebuildYAxis();
}

void MetricChart::attach(QAbstractSeries* series) {
    series->attachAxis(x_);
    series->attachAxis(y_);
}

int MetricChart::addLine(const QString& name, const QColor& color, bool faded, bool dashed) {
    auto* s = new QLineSeries;
    s->setName(name);
    QPen pen(faded ? QColor(color.red(), color.green(), color.blue(), 70) : color);
    pen.setWidthF(faded ? 1.0 : 2.0);
    if (dashed) pen.setStyle(Qt::DashLine);
    s->setPen(pen);
    chart()->addSeries(s);
    attach(s);
    lines_ << s;
    full_ << QList<QPointF>();
    // Keep the event markers drawn on top of the lines.
    if (markers_) {
        chart()->removeSeries(markers_);
        chart()->addSeries(markers_);
        attach(markers_);
    }
    return int(lines_.size()) - 1;
}

void MetricChart::setPoints(int series, const QList<QPointF>& points) {
    if (!logY_) {
        full_[series] = points;
    } else {
        // A log axis cannot show zero or less: those points are left out of this view only.
        QList<QPointF> positive;
        positive.reserve(points.size());
        for (const QPointF& p : points)
            if (p.y() > 0) positive << p;
        full_[series] = positive;
    }
}

int MetricChart::pointCount(int series) const { return int(full_[series].size()); }
int MetricChart::drawnPointCount(int series) const { return int(lines_[series]->count()); }

void MetricChart::render() {
    auto* x = static_cast<QValueAxis*>(x_);
    const double x0 = x->min(), x1 = x->max();
    const int columns = std::max(64, int(chart()->plotArea().width()));
    const double width = (x1 - x0) / columns;
    for (int s = 0; s < lines_.size(); ++s) {
        const QList<QPointF>& all = full_[s];
        if (all.size() <= 4 * columns || width <= 0) {
            lines_[s]->replace(all);
            continue;
        }
        QList<QPointF> drawn;
        drawn.reserve(4 * columns + 2);
        // Points are in x order. Keep one point on each side of the visible range so that the line
        // reaches the edges.
        qsizetype i =
            std::lower_bound(all.begin(), all.end(), x0, [](const QPointF& p, double v) { return p.x() < v; }) -
            all.begin();
        if (i > 0) drawn << all[--i];
        while (i < all.size() && all[i].x() <= x1) {
            const auto column = qint64((all[i].x() - x0) / width);
            QPointF first = all[i], last = all[i], low = all[i], high = all[i];
            for (++i; i < all.size() && all[i].x() <= x1 && qint64((all[i].x() - x0) / width) == column; ++i) {
                last = all[i];
                if (all[i].y() < low.y()) low = all[i];
                if (all[i].y() > high.y()) high = all[i];
            }
            drawn << first;
            // The extremes in the order they happened, so the line goes through them as it did.
            if (low.x() <= high.x()) {
                if (low != first) drawn << low;
                if (high != last && high != low) drawn << high;
            } else {
                if (high != first) drawn << high;
                if (low != last && low != high) drawn << low;
            }
            if (last != first) drawn << last;
        }
        if (i < all.size()) drawn << all[i];
        lines_[s]->replace(drawn);
    }
}

void MetricChart::setMarkers(const QList<QPointF>& points, const QStringList& tips) {
    QList<QPointF> shown;
    QStringList shownTips;
    for (int i = 0; i < points.size(); ++i)
        if (!logY_ || points[i].y() > 0) {
            shown << points[i];
            shownTips << tips.value(i);
        }
    if (!markers_) return;
    markers_->replace(shown);
    markerTips_ = shownTips;
}

void MetricChart::setXTitle(const QString& title) { x_->setTitleText(title); }

void MetricChart::setLogY(bool on) {
    if (on == logY_) return;
    logY_ = on;
    rebuildYAxis();
}

void MetricChart::rebuildYAxis() {
    if (y_) {
        for (QAbstractSeries* s : chart()->series()) s->detachAxis(y_);
        chart()->removeAxis(y_);
        delete y_;
    }
    if (logY_) {
        auto* log = new QLogValueAxis;
        log->setBase(10);
        log->setLabelFormat("%g");
        log->setMinorTickCount(-1);
        y_ = log;
    } else {
        auto* lin = new QValueAxis;
        lin->setLabelFormat("%g");
        y_ = lin;
    }
    y_->setTitleText(yTitle_);
    chart()->addAxis(y_, Qt::AlignLeft);
    for (QAbstractSeries* s : chart()->series()) s->attachAxis(y_);
}

void MetricChart::fitAxes() {
    if (zoomed_) return render();
    fitting_ = true;
    double x0 = std::numeric_limits<double>::max(), x1 = std::numeric_limits<double>::lowest();
    double y0 = x0, y1 = x1;
    for (const QList<QPointF>& points : full_)
        for (const QPointF& p : points) {
            x0 = std::min(x0, p.x());
            x1 = std::max(x1, p.x());
            y0 = std::min(y0, p.y());
            y1 = std::max(y1, p.y());
        }
    if (x0 > x1) {
        x0 = 0;
        x1 = 1;
        y0 = logY_ ? 0.1 : 0;
        y1 = 1;
    }
    if (x1 - x0 < 1e-9) x1 = x0 + 1;
    if (logY_) {
        y0 = std::pow(10.0, std::floor(std::log10(std::max(y0, 1e-12))));
        y1 = std::pow(10.0, std::ceil(std::log10(std::max(y1, y0 * 10))));
    } else {
        const double pad = std::max((y1 - y0) * 0.05, 1e-9);
        y0 = y0 >= 0 && y0 - pad < 0 ? 0 : y0 - pad;
        y1 += pad;
    }
    x_->setRange(x0, x1);
    y_->setRange(y0, y1);
    // Round tick labels (0, 5, 10 rather than 1, 4.75, 8.5) on linear axes.
    static_cast<QValueAxis*>(x_)->applyNiceNumbers();
    if (auto* linear = qobject_cast<QValueAxis*>(y_)) linear->applyNiceNumbers();
    fitting_ = false;
    render();
}

void MetricChart::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
        case Qt::Key_Left:
            chart()->scroll(-width() / 10.0, 0);
            break;
        case Qt::Key_Right:
            chart()->scroll(width() / 10.0, 0);
            break;
        case Qt::Key_Up:
            chart()->scroll(0, height() / 10.0);
            break;
        case Qt::Key_Down:
            chart()->scroll(0, -height() / 10.0);
            break;
        case Qt::Key_Plus:
        case Qt::Key_Equal:
            chart()->zoom(1.25);
            break;
        case Qt::Key_Minus:
            chart()->zoom(0.8);
            break;
        case Qt::Key_Home:
            zoomed_ = false;
            fitAxes();
            return;
        default:
            QChartView::keyPressEvent(event);
            return;
    }
    zoomed_ = true;
}

void MetricChart::mouseReleaseEvent(QMouseEvent* event) {
    // A drag zooms in (the rubber band); a right click zooms out one step (QChartView's own).
    zoomed_ = true;
    QChartView::mouseReleaseEvent(event);
}

}  // namespace raven::console

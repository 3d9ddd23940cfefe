#include "StateIcons.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace raven::contributor {

namespace {

QPixmap draw(const QString& state, int size) {
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / 32.0, size / 32.0);
    const QColor fill = state == QLatin1String("computing") ? QColor(0x2e, 0x9d, 0x4f)
                        : state == QLatin1String("paused")  ? QColor(0xd9, 0x8c, 0x00)
                        : state == QLatin1String("snoozed") ? QColor(0x34, 0x6f, 0xc9)
                        : state == QLatin1String("error")   ? QColor(0xd0, 0x2f, 0x2f)
                                                            : QColor(0x70, 0x76, 0x7d);
    // A dark rim outside the white one keeps the disc's edge visible on a white panel too.
    p.setPen(QPen(QColor(0, 0, 0, 110), 1.0));
    p.setBrush(Qt::NoBrush);
    p.drawEllipse(QRectF(0.5, 0.5, 31, 31));
    p.setPen(QPen(Qt::white, 2.0));
    p.setBrush(fill);
    p.drawEllipse(QRectF(2, 2, 28, 28));
    p.setPen(Qt::NoPen);
    p.setBrush(Qt::white);
    if (state == QLatin1String("computing")) {
        p.drawPolygon(QPolygonF({QPointF(12, 8.5), QPointF(24, 16), QPointF(12, 23.5)}));
    } else if (state == QLatin1String("paused")) {
        p.drawRect(QRectF(10.5, 9, 4, 14));
        p.drawRect(QRectF(17.5, 9, 4, 14));
    } else if (state == QLatin1String("snoozed")) {
        QPainterPath moon;
        moon.addEllipse(QRectF(8, 8, 16, 16));
        QPainterPath bite;
        bite.addEllipse(QRectF(13, 5, 15, 15));
        p.drawPath(moon.subtracted(bite));
    } else if (state == QLatin1String("error")) {
        p.drawRoundedRect(QRectF(14.2, 7.5, 3.6, 11), 1.5, 1.5);
        p.drawEllipse(QRectF(14, 20.5, 4, 4));
    } else if (state == QLatin1String("waiting")) {
        p.setPen(QPen(Qt::white, 2.4, Qt::SolidLine, Qt::RoundCap));
        p.setBrush(Qt::NoBrush);
        p.drawEllipse(QRectF(8.5, 8.5, 15, 15));
        p.drawLine(QPointF(16, 16), QPointF(16, 11));
        p.drawLine(QPointF(16, 16), QPointF(19.5, 17.5));
    } else {
        QFont font;
        font.setPixelSize(20);
        font.setBold(true);
        p.setFont(font);
        p.setPen(Qt::white);
        p.drawText(QRectF(0, 0, 32, 32), Qt::AlignCenter, QStringLiteral("?"));
    }
    return pixmap;
}

}  // namespace

QIcon stateIcon(const QString& state) {
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64}) icon.addPixmap(draw(state, size));
    return icon;
}

}  // namespace raven::contributor

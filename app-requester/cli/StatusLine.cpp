#include "StatusLine.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace raven::cli {

namespace {
constexpr qint64 kLogIntervalMs = 5000;
}

StatusLine::StatusLine() : terminal_(isatty(fileno(stderr)) != 0) {}

void StatusLine::show(const QString& text, bool important) {
    if (terminal_) {
        std::fprintf(stderr, "\r%s\033[K", text.toLocal8Bit().constData());
        shown_ = true;
    } else {
        if (!important && sinceLastLine_.isValid() && sinceLastLine_.elapsed() < kLogIntervalMs) return;
        std::fprintf(stderr, "%s\n", text.toLocal8Bit().constData());
        sinceLastLine_.start();
    }
    std::fflush(stderr);
}

void StatusLine::clear() {
    if (terminal_ && shown_) {
        std::fprintf(stderr, "\r\033[K");
        std::fflush(stderr);
    }
    shown_ = false;
}

QString StatusLine::bar(double done, double total, int width) {
    const int filled = total > 0 ? int(width * std::min(done / total, 1.0)) : 0;
    QString inside(filled, QLatin1Char('='));
    if (filled < width) inside += QLatin1Char('>');
    return QLatin1Char('[') + inside.leftJustified(width, QLatin1Char(' ')) + QLatin1Char(']');
}

}  // namespace raven::cli

#include "WeeklySchedule.h"

#include <QRegularExpression>
#include <QStringList>

namespace raven::contributor {

namespace {

const QStringList kDayNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::optional<int> minuteOf(const QString& hhmm) {
    static const QRegularExpression re(QStringLiteral("^(\\d{1,2}):(\\d{2})$"));
    const auto m = re.match(hhmm);
    if (!m.hasMatch()) return std::nullopt;
    const int h = m.captured(1).toInt(), min = m.captured(2).toInt();
    if (h > 24 || min > 59 || (h == 24 && min != 0)) return std::nullopt;
    return (h * 60 + min) % 1440;
}

// Fills `days` with the day indexes (0 = Monday) the text names; false when it names none or an unknown one.
bool parseDays(const QString& text, std::vector<int>& days) {
    for (const QString& part : text.toLower().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QStringList range = part.trimmed().split(QLatin1Char('-'));
        if (range.size() > 2) return false;
        const int from = static_cast<int>(kDayNames.indexOf(range.first().left(3)));
        const int to = static_cast<int>(kDayNames.indexOf(range.last().left(3)));
        if (from < 0 || to < 0) return false;
        for (int d = from;; d = (d + 1) % 7) {
            days.push_back(d);
            if (d == to) break;
        }
    }
    return !days.empty();
}

}  // namespace

std::optional<WeeklySchedule> WeeklySchedule::parse(const QString& text, QString* error) {
    WeeklySchedule s;
    s.text_ = text.trimmed();
    if (s.text_.isEmpty()) return s;
    s.always_ = false;
    auto fail = [&](const QString& why) -> std::optional<WeeklySchedule> {
        if (error) *error = why;
        return std::nullopt;
    };
    for (const QString& entry : s.text_.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        const QStringList parts = entry.simplified().split(QLatin1Char(' '));
        if (parts.size() != 2)
            return fail(
                QStringLiteral("\"%1\": write a day and hours, e.g. \"Mon-Fri 18:00-08:00\"").arg(entry.trimmed()));
        std::vector<int> days;
        if (!parseDays(parts[0], days))
            return fail(QStringLiteral("\"%1\" is not a day: use Mon, Tue, ..., Sun, a range Mon-Fri or a list Sat,Sun")
                            .arg(parts[0]));
        const QString hours = parts[1].toLower();
        std::optional<Window> window;
        if (hours == QLatin1String("all")) {
            window = Window{0, 0};
        } else if (hours != QLatin1String("off")) {
            const QStringList ends = hours.split(QLatin1Char('-'));
            const auto start = ends.size() == 2 ? minuteOf(ends[0]) : std::nullopt;
            const auto end = ends.size() == 2 ? minuteOf(ends[1]) : std::nullopt;
            if (!start || !end)
                return fail(QStringLiteral("\"%1\" is not hours: use HH:MM-HH:MM, all or off").arg(parts[1]));
            window = Window{*start, *end};
        }
        for (int d : days) {
            if (window) s.days_[static_cast<std::size_t>(d)].push_back(*window);
        }
    }
    return s;
}

bool WeeklySchedule::allows(const QDateTime& when) const {
    if (always_) return true;
    const int day = when.date().dayOfWeek() - 1;
    const int minute = when.time().hour() * 60 + when.time().minute();
    for (const Window& w : days_[static_cast<std::size_t>(day)]) {
        if (w.endMinute > w.startMinute ? (minute >= w.startMinute && minute < w.endMinute) : minute >= w.startMinute)
            return true;
    }
    // Yesterday's windows that run past midnight.
    for (const Window& w : days_[static_cast<std::size_t>((day + 6) % 7)]) {
        if (w.endMinute <= w.startMinute && w.endMinute != w.startMinute && minute < w.endMinute) return true;
        if (w.endMinute == w.startMinute && w.startMinute > 0 && minute < w.endMinute) return true;
    }
    return false;
}

QDateTime WeeklySchedule::nextChange(const QDateTime& from, bool toAllowed) const {
    if (always_) return {};
    // Minute steps over a week: 10,080 cheap checks, only when the state is about to be shown.
    QDateTime t = from.addSecs(60 - from.time().second());
    t.setTime(QTime(t.time().hour(), t.time().minute()));
    for (int i = 0; i < 7 * 1440 + 1; ++i, t = t.addSecs(60))
        if (allows(t) == toAllowed) return t;
    return {};
}

QDateTime WeeklySchedule::nextOpening(const QDateTime& from) const { return nextChange(from, true); }
QDateTime WeeklySchedule::nextClosing(const QDateTime& from) const { return nextChange(from, false); }

}  // namespace raven::contributor

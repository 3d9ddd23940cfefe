#pragma once
// WeeklySchedule: the hours of each weekday when this machine may compute.
//
//   WeeklySchedule s = *WeeklySchedule::parse("Mon-Fri 18:00-08:00; Sat,Sun all");
//   s.allows(QDateTime(QDate(2026, 12, 1), QTime(19, 0)));   // Tuesday 19:00: true
//   s.nextOpening(now);                                     // when a closed window opens next
//
// Text form (what the settings store and the person types): entries separated by ';', each
// "<days> <hours>" where days is a day ("Mon"), a range ("Mon-Fri") or a list ("Sat,Sun"), and hours
// is "HH:MM-HH:MM", "all" or "off". A window whose end is before its start runs past midnight into the
// next day (18:00-08:00 on Friday covers Friday evening and Saturday morning). Days no entry names
// are closed, unless the whole text is empty: then every hour is allowed.
#include <QDateTime>
#include <QString>

#include <array>
#include <optional>
#include <vector>

namespace raven::contributor {

class WeeklySchedule {
public:
    struct Window {
        int startMinute = 0;  // minutes after midnight, 0..1439
        int endMinute = 0;    // exclusive; <= startMinute: runs past midnight (equal: 24 h)
    };

    // Empty text: always allowed. nullopt and *error set when the text does not parse.
    static std::optional<WeeklySchedule> parse(const QString& text, QString* error = nullptr);
    QString toString() const { return text_; }
    bool alwaysAllowed() const { return always_; }

    bool allows(const QDateTime& when) const;
    // The next moment after `from` when allows() turns true (invalid: never within a week).
    QDateTime nextOpening(const QDateTime& from) const;
    // The next moment after `from` when allows() turns false (invalid: never within a week).
    QDateTime nextClosing(const QDateTime& from) const;

    bool operator==(const WeeklySchedule& other) const { return text_ == other.text_; }

private:
    QDateTime nextChange(const QDateTime& from, bool toAllowed) const;
    bool always_ = true;
    QString text_;
    std::array<std::vector<Window>, 7> days_;  // Monday first (Qt::Monday - 1)
};

}  // namespace raven::contributor

#include "RateSpinBox.h"

#include <QRegularExpression>

#include <cmath>
#include <optional>

namespace raven::console {

namespace {

// The number in `text` (the locale's digits and decimal mark, or the C locale's), without the
// spin box's prefix and suffix; nullopt when it is not one (yet).
std::optional<double> parsed(const QLocale& locale, QString text) {
    text = text.trimmed();
    bool ok = false;
    double value = locale.toDouble(text, &ok);
    if (!ok) value = QLocale::c().toDouble(text, &ok);
    return ok ? std::optional<double>(value) : std::nullopt;
}

}  // namespace

RateSpinBox::RateSpinBox(QWidget* parent) : QDoubleSpinBox(parent) {
    // The spin box rounds its value to this many decimals: enough for rates down to 1e-10.
    setDecimals(12);
    // Typing "3e-4" passes through 3: the value changes on Return or leaving the field, not per key.
    setKeyboardTracking(false);
}

QString RateSpinBox::textFromValue(double rate) const {
    // Shortest round trip: "0.001", "0.0003" in the locale's digits; below 1e-4 the exponent form as
    // papers and code write it ("3e-05"; the locale's own symbol would be "3E-05" or worse).
    if (rate == 0 || std::abs(rate) >= 1e-4) return locale().toString(rate, 'f', QLocale::FloatingPointShortest);
    return QString::number(rate, 'e', QLocale::FloatingPointShortest);
}

// The text without the prefix and suffix, where it carries them.
static QString numberIn(QString text, const QString& prefix, const QString& suffix) {
    if (!prefix.isEmpty() && text.startsWith(prefix)) text.remove(0, prefix.size());
    if (!suffix.isEmpty() && text.endsWith(suffix)) text.chop(suffix.size());
    return text.trimmed();
}

double RateSpinBox::valueFromText(const QString& text) const {
    return parsed(locale(), numberIn(text, prefix(), suffix())).value_or(value());
}

QValidator::State RateSpinBox::validate(QString& text, int& position) const {
    Q_UNUSED(position);
    const QString number = numberIn(text, prefix(), suffix());
    if (const std::optional<double> value = parsed(locale(), number))
        return *value >= minimum() && *value <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
    // On the way to a number: "", "0.", "3e", "3e-".
    static const QRegularExpression partial(QStringLiteral("^[0-9]*([.,][0-9]*)?([eE][-+]?[0-9]*)?$"));
    return partial.match(number).hasMatch() ? QValidator::Intermediate : QValidator::Invalid;
}

}  // namespace raven::console

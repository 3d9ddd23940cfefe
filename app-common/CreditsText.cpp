#include "CreditsText.h"

namespace raven::app {

QString creditsAmount(qint64 microCredits, const QLocale& locale) {
    constexpr quint64 kMicroPerCredit = 1'000'000;
    QLocale grouped = locale;
    grouped.setNumberOptions(locale.numberOptions() & ~QLocale::OmitGroupSeparator);
    const bool negative = microCredits < 0;
    // Unsigned arithmetic: the magnitude of INT64_MIN does not fit in a qint64.
    const quint64 magnitude = negative ? 0 - quint64(microCredits) : quint64(microCredits);
    QString text = (negative ? grouped.negativeSign() : QString()) + grouped.toString(magnitude / kMicroPerCredit);
    if (const quint64 fraction = magnitude % kMicroPerCredit; fraction != 0) {
        QString digits = QString::number(fraction).rightJustified(6, QLatin1Char('0'));
        while (digits.endsWith(QLatin1Char('0'))) digits.chop(1);
        text += grouped.decimalPoint();
        // Digit by digit: the locale's digits, without the grouping a whole number would get.
        for (const QChar d : digits) text += grouped.toString(d.digitValue());
    }
    return text;
}

}  // namespace raven::app

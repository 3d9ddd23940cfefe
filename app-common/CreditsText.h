#pragma once
// Credits as a person reads money-like figures in the apps: the locale's digit grouping and only the
// decimals that matter. Amounts are integer micro-credits (1 credit = 1,000,000 micro-credits), so
// six decimals are the most an amount can have:
//
//   creditsAmount(1'000'000'000'000) == "1,000,000"      (English; "1.000.000" in German)
//   creditsAmount(10'000'000)        == "10"
//   creditsAmount(12'345'600)        == "12.3456"
//
// Files and command lines keep requester::formatCredits (no grouping): these are for the eye only.
#include <QLocale>
#include <QString>

namespace raven::app {

// Grouped even where the locale is "C" (whose numbers omit grouping by default, with "," as its
// separator): seven digits in a row have to be counted, "1,000,000" does not.
QString creditsAmount(qint64 microCredits, const QLocale& locale = QLocale());

}  // namespace raven::app

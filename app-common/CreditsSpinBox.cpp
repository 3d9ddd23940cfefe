#include "CreditsSpinBox.h"

#include <cmath>

#include "CreditsText.h"

namespace raven::app {

CreditsSpinBox::CreditsSpinBox(QWidget* parent) : QDoubleSpinBox(parent) {
    setDecimals(6);  // a micro-credit, the ledger's unit
    // The typed text may then carry the separators that textFromValue shows.
    setGroupSeparatorShown(true);
}

qint64 CreditsSpinBox::microCredits() const { return std::llround(value() * 1e6); }

QString CreditsSpinBox::textFromValue(double credits) const {
    return creditsAmount(std::llround(credits * 1e6), locale());
}

}  // namespace raven::app

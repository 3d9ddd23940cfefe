#pragma once
// A spin box for an amount of credits that reads like the apps' other amounts (CreditsText.h):
// "10 credits" and "1,500.25 credits", not "10.000000 credits". It still takes up to six decimals.
#include <QDoubleSpinBox>

namespace raven::app {

class CreditsSpinBox : public QDoubleSpinBox {
public:
    explicit CreditsSpinBox(QWidget* parent = nullptr);

    qint64 microCredits() const;

protected:
    QString textFromValue(double credits) const override;
};

}  // namespace raven::app

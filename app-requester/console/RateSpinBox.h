#pragma once
// A spin box for a learning rate, written as people in the field write one: "0.001", "3e-4". A plain
// QDoubleSpinBox shows every decimal it keeps ("0.001000") and refuses the exponent a person types.
// Here the shortest text that reads back as the value is shown, and both forms are taken.
#include <QDoubleSpinBox>

namespace raven::console {

class RateSpinBox : public QDoubleSpinBox {
public:
    explicit RateSpinBox(QWidget* parent = nullptr);

protected:
    QString textFromValue(double rate) const override;
    double valueFromText(const QString& text) const override;
    QValidator::State validate(QString& text, int& position) const override;
};

}  // namespace raven::console

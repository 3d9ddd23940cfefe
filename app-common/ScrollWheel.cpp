#include "ScrollWheel.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QScrollArea>
#include <QScrollBar>

namespace raven::app {

namespace {

class WheelScrollsTheArea : public QObject {
public:
    explicit WheelScrollsTheArea(QScrollArea* area) : QObject(area), area_(area) {}

    bool eventFilter(QObject* watched, QEvent* event) override {
        auto* editor = qobject_cast<QWidget*>(watched);
        if (event->type() != QEvent::Wheel || !editor || editor->hasFocus()) return false;
        QCoreApplication::sendEvent(area_->verticalScrollBar(), event);
        return true;
    }

private:
    QScrollArea* area_;
};

}  // namespace

void keepWheelForScrolling(QScrollArea& area) {
    QWidget* form = area.widget();
    if (!form) return;
    auto* filter = new WheelScrollsTheArea(&area);
    auto guard = [filter](QWidget* editor) {
        editor->setFocusPolicy(Qt::StrongFocus);  // not focused by the wheel passing over it
        editor->installEventFilter(filter);
    };
    for (QAbstractSpinBox* spin : form->findChildren<QAbstractSpinBox*>()) guard(spin);
    for (QComboBox* combo : form->findChildren<QComboBox*>()) guard(combo);
}

}  // namespace raven::app

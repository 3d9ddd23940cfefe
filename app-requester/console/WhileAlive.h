#pragma once
// whileAlive: a callback for a reply that may arrive after its receiver is gone (a page closed, a
// service replaced): it runs only while `object` lives, with the object as its first argument.
//
//   client->balance({whileAlive(this, [](JobsService* self, const wire::Balance& b) { ... }), {}});
#include <QPointer>
#include <utility>

namespace raven::console {

template <typename T, typename F>
auto whileAlive(T* object, F f) {
    return [guard = QPointer<T>(object), f = std::move(f)](auto&&... args) {
        if (T* alive = guard.data()) f(alive, std::forward<decltype(args)>(args)...);
    };
}

}  // namespace raven::console

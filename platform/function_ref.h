// A non-owning reference to a callable, for callbacks that are only called during the call
// that receives them (the kernels' row splits). Unlike std::function it never allocates:
// a lambda capturing a dozen references would otherwise cost a heap allocation per call,
// thousands per token (the zero-allocation decode step, docs/engine.md).
#pragma once

#include <type_traits>
#include <utility>

namespace moestream {

template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                              std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept  // NOLINT: implicit, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace moestream

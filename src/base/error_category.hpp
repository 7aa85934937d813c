#pragma once
// The one std::error_category of each module (client, store, realtime): a name and a function from the
// module's error enum to its sentence. Each module keeps only its table of sentences.

#include <string>
#include <system_error>

namespace igniter::base {

/// The error category of the enum `E`. `describe` returns nullptr for a value it does not know, which
/// then reads `unknown`. Constant after construction: usable from any thread.
template <class E>
class EnumCategory final : public std::error_category {
 public:
  using Describe = const char* (*)(E) noexcept;

  constexpr EnumCategory(const char* name, Describe describe, const char* unknown) noexcept
      : name_(name), describe_(describe), unknown_(unknown) {}

  const char* name() const noexcept override { return name_; }
  std::string message(int value) const override {
    const char* text = describe_(static_cast<E>(value));
    return text ? text : unknown_;
  }

 private:
  const char* name_;
  Describe describe_;
  const char* unknown_;
};

}  // namespace igniter::base

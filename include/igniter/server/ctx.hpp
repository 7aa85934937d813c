#pragma once
/// Ctx: what a handler and its procedures receive: the request, the response builder, the data procedures
/// added, and the app's services (realtime, store, logger).

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include "igniter/base/log.hpp"
#include "igniter/http/request.hpp"
#include "igniter/server/response.hpp"

namespace igniter {

class Realtime;
namespace store {
class Store;
}

/// The context of one action call. Lives while the call runs, on one thread at a time.
class Ctx {
 public:
  /// Services a context exposes; owned by the App, which outlives every Ctx.
  struct Services {
    Realtime* realtime = nullptr;
    store::Store* store = nullptr;
    Logger* logger = nullptr;
  };

  Ctx(Request& request, std::string request_id, Services services)
      : request(request), request_id_(std::move(request_id)), services_(services) {}
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;

  Request& request;          ///< The request being answered.
  ResponseBuilder response;  ///< Builds the response: `return c.response.success(data);`.

  /// Stores `value` for later procedures and the handler (replacing an earlier value of the same type).
  template <class T>
  T& set(T value) {
    for (auto& slot : slots_)
      if (*slot.type == typeid(T))
        return *static_cast<T*>((slot.value = std::make_shared<T>(std::move(value))).get());
    slots_.push_back({&typeid(T), std::make_shared<T>(std::move(value))});
    return *static_cast<T*>(slots_.back().value.get());
  }
  /// The value a procedure stored, or nullptr.
  template <class T>
  T* find() const noexcept {
    for (const auto& slot : slots_)
      if (*slot.type == typeid(T)) return static_cast<T*>(slot.value.get());
    return nullptr;
  }
  /// The value a procedure stored; a missing one is a programming error (logic_error → 500).
  template <class T>
  T& get() const {
    if (T* value = find<T>()) return *value;
    throw std::logic_error(std::string("Ctx::get: no procedure stored a ") + typeid(T).name());
  }

  /// The id of this request (also sent as X-Request-Id and written in the log line).
  std::string_view request_id() const noexcept { return request_id_; }
  /// The app's realtime hub: publish and revalidate from a handler.
  Realtime& realtime() const { return *services_.realtime; }
  /// The app's store (cache and messaging).
  store::Store& store() const { return *services_.store; }
  /// The app's logger.
  Logger& log() const { return *services_.logger; }

 private:
  struct Slot {
    const std::type_info* type;
    std::shared_ptr<void> value;
  };
  std::string request_id_;
  Services services_;
  std::vector<Slot> slots_;
};

}  // namespace igniter

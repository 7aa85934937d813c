#include "igniter/store/store.hpp"

#include "igniter/store/memory_store.hpp"
#include "igniter/store/redis_store.hpp"

namespace igniter::store {

Subscription::Subscription(Subscription&& other) noexcept
    : owner_(std::move(other.owner_)),
      id_(std::exchange(other.id_, 0)),
      channel_(std::move(other.channel_)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    unsubscribe();
    owner_ = std::move(other.owner_);
    id_ = std::exchange(other.id_, 0);
    channel_ = std::move(other.channel_);
  }
  return *this;
}

void Subscription::unsubscribe() noexcept {
  if (id_ == 0) return;
  if (auto owner = owner_.lock()) owner->unsubscribe(id_);
  owner_.reset();
  id_ = 0;
}

Result<std::shared_ptr<Store>> from_url(std::string_view url, StoreOptions options) {
  if (url.empty() || url == "memory" || url == "memory://") {
    return std::shared_ptr<Store>(std::make_shared<MemoryStore>(std::move(options)));
  }
  auto endpoint = parse_redis_url(url);
  if (!endpoint) return endpoint.error();
  auto store = RedisStore::open(std::move(*endpoint), std::move(options));
  if (!store) return store.error();
  return std::shared_ptr<Store>(std::move(*store));
}

Result<std::shared_ptr<Store>> from_url(const char* url, StoreOptions options) {
  return from_url(std::string_view(url ? url : ""), std::move(options));
}

}  // namespace igniter::store

#pragma once
// Redis Sentinel, client side: where the master is, and when it moves.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "igniter/base/log.hpp"
#include "igniter/store/redis_store.hpp"
#include "store/redis/connection.hpp"

namespace igniter::store::redis {

// Every member, and every callback it makes, runs on the io_context's (single) thread.
class Sentinels : public std::enable_shared_from_this<Sentinels> {
 public:
  struct Settings {
    RedisEndpoint endpoint;                   // sentinels, master_name, sentinel_user, sentinel_password
    std::chrono::milliseconds timeout{2000};  // per Sentinel: connect, handshake and answer
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5000};
    Logger* logger = nullptr;
  };
  // Called with the new master's address when a Sentinel announces +switch-master for our master.
  using SwitchHandler = std::function<void(const RedisAddress&)>;

  // A Sentinel's replies are input like any other: none may exceed this.
  static constexpr std::size_t kMaxReplyBytes = 64 * 1024;

  Sentinels(boost::asio::io_context& io, Settings settings, SwitchHandler on_switch);
  Sentinels(const Sentinels&) = delete;
  Sentinels& operator=(const Sentinels&) = delete;

  // Subscribes to +switch-master on one Sentinel (the next one in the list whenever it is lost).
  void start();
  // Closes every connection; a locate() in progress answers errc::unavailable.
  void stop();
  // Asks the Sentinels one after the other (from the last one that answered) for the master's address:
  // the first valid answer wins. errc::unavailable when none knows it (or none answers within
  // `timeout` each), errc::auth_failed when a Sentinel refused our credentials and none answered.
  // Calls made while a search is under way share its answer.
  void locate(std::function<void(Result<RedisAddress>)> done);

 private:
  void ask(std::size_t index, std::size_t tried);
  void next(std::size_t index, std::size_t tried, std::error_code why);
  void finish(Result<RedisAddress> result);
  void on_switch_message(const Reply& push);
  void drop_query();
  void log(LogLevel level, const std::string& text) const;
  RedisEndpoint sentinel_endpoint(const RedisAddress& address) const;

  boost::asio::io_context& io_;
  Settings settings_;
  SwitchHandler on_switch_;
  std::vector<std::function<void(Result<RedisAddress>)>> waiters_;
  std::shared_ptr<Connection> query_;    // the Sentinel being asked
  std::shared_ptr<Connection> watcher_;  // subscribed to +switch-master
  std::uint64_t attempt_ = 0;            // bumped per Sentinel asked: older answers are ignored
  std::size_t preferred_ = 0;            // the Sentinel that answered last
  std::size_t next_watched_ = 0;
  std::error_code worst_;  // the most telling error of the current search
  bool stopped_ = false;
};

}  // namespace igniter::store::redis

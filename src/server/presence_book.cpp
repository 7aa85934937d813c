#include "server/presence_book.hpp"

#include <algorithm>

namespace igniter::server {

PresenceBook::PresenceBook(std::vector<std::string> channels, Limits limits) : limits_(limits) {
  for (auto& name : channels) channels_.try_emplace(std::move(name));
}

bool PresenceBook::tracks(std::string_view channel) const {
  return channels_.find(channel) != channels_.end();  // the set of channels never changes
}

void PresenceBook::open(std::uint64_t stream, std::optional<std::string> member) {
  if (member && (member->empty() || member->size() > limits_.max_member_bytes)) member.reset();
  std::lock_guard lock(mutex_);
  streams_[stream].member = std::move(member);
}

void PresenceBook::join(std::uint64_t stream, std::string_view channel, Clock::time_point now) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  std::lock_guard lock(mutex_);
  auto& entry = streams_[stream];
  const auto& member = entry.member;
  auto& memberships = entry.on;
  for (const auto& m : memberships)
    if (m.channel == channel) return;
  auto& state = it->second;
  expire_locked(state, it->first, now);
  Membership membership{it->first, std::nullopt};
  // A member past the channel's limit is not listed: the stream is counted as anonymous (nothing clients
  // do can make the book grow past max_members_per_channel entries per channel).
  if (member) {
    auto found = state.members.find(*member);
    if (found == state.members.end() && state.members.size() < limits_.max_members_per_channel)
      found = state.members.try_emplace(*member).first;
    if (found != state.members.end()) {
      ++found->second.streams;
      membership.member = *member;
      touched_.emplace(it->first, *member);
    }
  }
  if (!membership.member) ++state.anonymous;
  ++state.streams;
  dirty_.insert(it->first);
  memberships.push_back(std::move(membership));
}

void PresenceBook::leave_locked(Membership& m, Clock::time_point now) {
  auto it = channels_.find(m.channel);
  auto& state = it->second;
  --state.streams;
  if (m.member) {
    auto found = state.members.find(*m.member);
    if (found != state.members.end() && found->second.streams > 0 && --found->second.streams == 0)
      found->second.linger_until = now + limits_.linger;
    touched_.emplace(m.channel, *m.member);
  } else {
    --state.anonymous;
  }
  dirty_.insert(m.channel);
}

void PresenceBook::leave(std::uint64_t stream, std::string_view channel, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  auto& memberships = it->second.on;
  auto m = std::find_if(memberships.begin(), memberships.end(),
                        [&](const Membership& x) { return x.channel == channel; });
  if (m == memberships.end()) return;
  leave_locked(*m, now);
  memberships.erase(m);
}

void PresenceBook::close(std::uint64_t stream, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  for (auto& m : it->second.on) leave_locked(m, now);
  streams_.erase(it);
}

void PresenceBook::expire_locked(Channel& channel, std::string_view name, Clock::time_point now) {
  for (auto it = channel.members.begin(); it != channel.members.end();) {
    const auto& m = it->second;
    if (m.streams == 0 && m.linger_until <= now) {
      if (m.announced) {
        // Gone for good: take() must still report the leave; keep the entry until it has.
        touched_.emplace(std::string(name), it->first);
        dirty_.insert(std::string(name));
        ++it;
        continue;
      }
      it = channel.members.erase(it);
      continue;
    }
    ++it;
  }
}

PresenceBook::Delta PresenceBook::take(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto& [name, channel] : channels_) expire_locked(channel, name, now);
  Delta delta;
  for (const auto& [name, member] : touched_) {
    auto& channel = channels_.find(name)->second;
    auto found = channel.members.find(member);
    if (found == channel.members.end()) continue;
    auto& m = found->second;
    bool present = m.streams > 0 || m.linger_until > now;
    if (present != m.announced) {
      m.announced = present;
      delta.changes.push_back({name, member, present});
    }
    if (!present) channel.members.erase(found);
  }
  touched_.clear();
  delta.channels.assign(dirty_.begin(), dirty_.end());
  dirty_.clear();
  return delta;
}

LocalPresence PresenceBook::local(std::string_view name, Clock::time_point now) const {
  LocalPresence out;
  auto it = channels_.find(name);
  if (it == channels_.end()) return out;
  std::lock_guard lock(mutex_);
  const auto& channel = it->second;
  out.streams = channel.streams;
  out.anonymous = channel.anonymous;
  for (const auto& [member, m] : channel.members)
    if (m.streams > 0 || m.linger_until > now) out.members.push_back(member);
  return out;
}

std::vector<std::string> PresenceBook::occupied() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, channel] : channels_)
    if (channel.streams > 0 || !channel.members.empty()) out.push_back(name);
  return out;
}

std::size_t PresenceBook::streams() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

}  // namespace igniter::server

#pragma once
// The soak's bookkeeping: what was published (from the publishers' answers), what each subscriber
// received, and the check that nothing was lost, duplicated, reordered or delivered out of scope.
// Pure logic (no sockets, no clock reads): soak.cpp feeds it.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace soak {

using Clock = std::chrono::steady_clock;

/// A notification the soak published: its event id's sequence, who published it (publisher index and
/// that publisher's own counter, both in the payload) and its target (`to` = a user id, or -1 for all).
struct Note {
  std::uint64_t seq = 0;
  int publisher = 0;
  std::uint64_t number = 0;
  std::int64_t to = -1;
  Clock::time_point sent;      ///< when the POST was written
  Clock::time_point answered;  ///< when its 201 arrived
};

/// When a subscriber was subscribed to notifications.stream: from an event id (subscribed when the
/// stream opened: every later event is due) or from a time (a live subscription: events published after
/// the answer are due), until an unsubscribe (events answered before it, minus a grace, are due).
struct Interval {
  bool from_id = true;
  std::uint64_t from_seq = 0;
  Clock::time_point from_time;
  std::optional<Clock::time_point> until;
};

/// One subscriber as the checker sees it: a chain of connections, each resuming where the last stopped.
struct Chain {
  enum class Role { steady, churn, slow, live, ephemeral };
  int index = 0;
  Role role = Role::steady;
  std::int64_t user = 0;  ///< the user id its streams were opened as
  bool resumable = true;  ///< false for ephemeral subscribers: they leave for good
  bool positioned = false;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t reval_from = 0;
  std::vector<Interval> notes;
  std::vector<std::uint64_t> note_seqs;                    ///< received notifications, in order
  std::vector<std::pair<int, std::uint64_t>> note_origin;  ///< (publisher, number) of each
  std::vector<std::uint64_t> reval_seqs;                   ///< received revalidations, in order
  Clock::time_point last_receipt;
  // What went wrong at receipt time.
  std::uint64_t duplicates = 0, out_of_order = 0, scope_leaks = 0, resyncs = 0, resyncs_justified = 0;
  std::uint64_t received = 0, connects = 0, resumes = 0, cuts = 0;
  std::vector<std::string> problems;  ///< the first few, for the report

  void note_problem(std::string text) {
    if (problems.size() < 5) problems.push_back(std::move(text));
  }
};

/// The result of a check.
struct Findings {
  std::uint64_t lost = 0;               ///< due events a subscriber did not get
  std::uint64_t unreceived_revals = 0;  ///< revalidations no subscriber got (counted against the mutations)
  std::uint64_t duplicates = 0, out_of_order = 0, scope_leaks = 0, unknown = 0, mismatched = 0;
  std::uint64_t resyncs = 0, resyncs_justified = 0;
  std::uint64_t after_failed_publish =
      0;  ///< events delivered although their publish was answered with an error
  std::vector<std::string> examples;

  std::uint64_t failures() const {
    return lost + unreceived_revals + duplicates + out_of_order + scope_leaks + unknown + mismatched +
           (resyncs - resyncs_justified);
  }
  void example(std::string text) {
    if (examples.size() < 12) examples.push_back(std::move(text));
  }
};

class Ledger {
 public:
  /// `history_events` and `history_age` are the server's resume window: a resync after a gap longer
  /// than that is justified. `unsubscribe_grace`: events answered that long before an unsubscribe are due.
  Ledger(std::uint64_t history_events, Clock::duration history_age, Clock::duration unsubscribe_grace)
      : history_events_(history_events), history_age_(history_age), grace_(unsubscribe_grace) {}

  // ---- publishers ----
  void published(const Note& note) { notes_[note.seq] = note; }
  void publish_failed(int publisher, std::uint64_t number) { failed_.insert({publisher, number}); }
  /// A mutation answered with success publishes exactly one revalidation (user -1: unscoped).
  void revalidation_due(std::int64_t user) { ++due_revals_[user]; }
  void revalidation_uncertain(std::int64_t user) { ++uncertain_revals_[user]; }
  std::uint64_t published_count() const { return notes_.size(); }

  // ---- subscribers ----
  /// A `connected` frame. `resumed` when the request carried the chain's position.
  void connected(Chain& c, std::uint64_t seq, bool resync, bool resumed, Clock::time_point now) {
    ++c.connects;
    if (resumed) ++c.resumes;
    if (!c.positioned) {
      c.positioned = true;
      c.first_seq = c.last_seq = c.reval_from = seq;
      for (auto& i : c.notes)
        if (i.from_id) i.from_seq = seq;
      c.last_receipt = now;
      return;
    }
    if (resync) resynced(c, seq, now, "connected frame with resync:true");
  }

  /// A notification (payload `s|<publisher>|<number>|...`); `scope_user` from the envelope, -1 if none.
  void notification(Chain& c, std::uint64_t seq, int publisher, std::uint64_t number, std::int64_t scope_user,
                    Clock::time_point now) {
    ++c.received;
    if (!ordered(c, seq, "notification")) return;
    if (scope_user != -1 && scope_user != c.user) {
      ++c.scope_leaks;
      c.note_problem("event " + std::to_string(seq) + " for user " + std::to_string(scope_user) +
                     " reached a stream of user " + std::to_string(c.user));
    }
    c.note_seqs.push_back(seq);
    c.note_origin.emplace_back(publisher, number);
    c.last_seq = seq;
    c.last_receipt = now;
  }

  /// A revalidation; `refetch_all` is the `[""]` frame the server sends after a gap (a resync).
  void revalidation(Chain& c, std::uint64_t seq, std::int64_t scope_user, bool refetch_all,
                    Clock::time_point now) {
    ++c.received;
    if (refetch_all) {
      resynced(c, seq, now, "revalidate [\"\"] (refetch everything)");
      return;
    }
    if (!ordered(c, seq, "revalidation")) return;
    if (scope_user != -1 && scope_user != c.user) {
      ++c.scope_leaks;
      c.note_problem("revalidation " + std::to_string(seq) + " for user " + std::to_string(scope_user) +
                     " reached a stream of user " + std::to_string(c.user));
    }
    revals_.emplace(seq, scope_user);
    c.reval_seqs.push_back(seq);
    c.last_seq = seq;
    c.last_receipt = now;
  }

  /// Checks every chain. Not `final`: only what each chain should have by now (events up to the last one
  /// it received). `final` (after the drain): everything due to resumable chains.
  Findings check(const std::vector<const Chain*>& chains, bool final) const {
    Findings f;
    for (const Chain* c : chains) {
      if (!c->positioned) continue;
      f.duplicates += c->duplicates;
      f.out_of_order += c->out_of_order;
      f.scope_leaks += c->scope_leaks;
      f.resyncs += c->resyncs;
      f.resyncs_justified += c->resyncs_justified;
      for (auto& p : c->problems) f.example("subscriber " + std::to_string(c->index) + ": " + p);
      std::uint64_t horizon = final && c->resumable ? std::numeric_limits<std::uint64_t>::max() : c->last_seq;
      // Notifications due and missing.
      for (auto it = notes_.upper_bound(c->first_seq); it != notes_.end() && it->first <= horizon; ++it) {
        const Note& e = it->second;
        if (e.to != -1 && e.to != c->user) continue;
        if (!due(*c, e)) continue;
        if (!std::binary_search(c->note_seqs.begin(), c->note_seqs.end(), e.seq)) {
          ++f.lost;
          f.example("subscriber " + std::to_string(c->index) + " (" + role_name(c->role) +
                    ") missed notification " + std::to_string(e.seq) + " (publisher " +
                    std::to_string(e.publisher) + " #" + std::to_string(e.number) + ")");
        }
      }
      // Revalidations due and missing (the union of what anyone received; counted against mutations below).
      for (auto it = revals_.upper_bound(c->reval_from); it != revals_.end() && it->first <= horizon; ++it) {
        if (it->second != -1 && it->second != c->user) continue;
        if (!std::binary_search(c->reval_seqs.begin(), c->reval_seqs.end(), it->first)) {
          ++f.lost;
          f.example("subscriber " + std::to_string(c->index) + " (" + role_name(c->role) +
                    ") missed revalidation " + std::to_string(it->first));
        }
      }
      // What was received is what was published under that id.
      for (std::size_t i = 0; i < c->note_seqs.size(); ++i) {
        auto found = notes_.find(c->note_seqs[i]);
        if (found == notes_.end()) {
          if (failed_.count(c->note_origin[i])) {
            ++f.after_failed_publish;
          } else if (final) {
            ++f.unknown;
            f.example("subscriber " + std::to_string(c->index) + " received event " +
                      std::to_string(c->note_seqs[i]) + " that no publisher was answered for");
          }
        } else if (found->second.publisher != c->note_origin[i].first ||
                   found->second.number != c->note_origin[i].second) {
          ++f.mismatched;
          f.example("event " + std::to_string(c->note_seqs[i]) + " carried another publisher's payload");
        }
      }
    }
    if (final) {
      std::map<std::int64_t, std::uint64_t> seen;
      for (auto& [seq, user] : revals_) ++seen[user];
      for (auto& [user, due] : due_revals_) {
        auto got = seen[user];
        auto uncertain = uncertain_revals_.count(user) ? uncertain_revals_.at(user) : 0;
        if (got < due) {
          f.unreceived_revals += due - got;
          f.example(std::to_string(due - got) + " revalidation(s) " +
                    (user == -1 ? std::string("to everyone") : "for user " + std::to_string(user)) +
                    " reached no subscriber");
        } else if (got > due + uncertain) {
          f.unknown += got - due - uncertain;
        }
      }
    }
    return f;
  }

  static const char* role_name(Chain::Role r) {
    switch (r) {
      case Chain::Role::steady:
        return "steady";
      case Chain::Role::churn:
        return "churn";
      case Chain::Role::slow:
        return "slow";
      case Chain::Role::live:
        return "live";
      case Chain::Role::ephemeral:
        return "ephemeral";
    }
    return "?";
  }

 private:
  bool ordered(Chain& c, std::uint64_t seq, const char* what) {
    if (seq > c.last_seq) return true;
    bool dup = std::binary_search(c.note_seqs.begin(), c.note_seqs.end(), seq) ||
               std::binary_search(c.reval_seqs.begin(), c.reval_seqs.end(), seq);
    if (dup) {
      ++c.duplicates;
      c.note_problem(std::string(what) + " " + std::to_string(seq) + " received twice");
    } else {
      ++c.out_of_order;
      c.note_problem(std::string(what) + " " + std::to_string(seq) + " arrived after " +
                     std::to_string(c.last_seq));
    }
    return false;
  }

  bool due(const Chain& c, const Note& e) const {
    for (const auto& i : c.notes) {
      bool after_start = i.from_id ? e.seq > i.from_seq : e.sent > i.from_time;
      bool before_end = !i.until || e.answered + grace_ < *i.until;
      if (after_start && before_end) return true;
    }
    return false;
  }

  // A resync is loss unless the gap was longer than the server keeps: more events than its history holds
  // since the chain's position, or a position older than the history's age.
  void resynced(Chain& c, std::uint64_t seq, Clock::time_point now, const std::string& how) {
    ++c.resyncs;
    std::uint64_t since = 0;
    for (auto it = notes_.upper_bound(c.last_seq); it != notes_.end(); ++it) ++since;
    for (auto it = revals_.upper_bound(c.last_seq); it != revals_.end(); ++it) ++since;
    bool justified = since >= history_events_ || now - c.last_receipt >= history_age_;
    if (justified) {
      ++c.resyncs_justified;
    } else {
      c.note_problem(how + " at " + std::to_string(seq) + " although only " + std::to_string(since) +
                     " events passed since its position " + std::to_string(c.last_seq));
    }
    // Continue from the server's new position: what came before is accounted for by the resync.
    c.first_seq = std::max(c.first_seq, seq);
    c.reval_from = std::max(c.reval_from, seq);
    for (auto& i : c.notes) {
      if (i.until) continue;
      i = Interval{.from_id = true, .from_seq = seq};
    }
    c.notes.erase(
        std::remove_if(c.notes.begin(), c.notes.end(), [](const Interval& i) { return i.until.has_value(); }),
        c.notes.end());
    c.last_seq = std::max(c.last_seq, seq);
    c.last_receipt = now;
  }

  std::uint64_t history_events_;
  Clock::duration history_age_;
  Clock::duration grace_;
  std::map<std::uint64_t, Note> notes_;
  std::set<std::pair<int, std::uint64_t>> failed_;
  std::map<std::uint64_t, std::int64_t> revals_;  // seq -> scope user (-1 unscoped), union of receipts
  std::map<std::int64_t, std::uint64_t> due_revals_, uncertain_revals_;
};

}  // namespace soak

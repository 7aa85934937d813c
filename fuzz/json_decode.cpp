// A request body as an action receives it: parsed by the server's parse_body (depth limit included),
// decoded into a described struct with nested structs, vectors, maps, optionals, an enum and strings with
// rules (length, pattern, email, one_of), every issue rendered as zod JSON. A body that decodes must encode
// and decode again to the same value.
//
// Input: the body bytes.

#include <boost/describe.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "igniter/igniter.hpp"
#include "support.hpp"

namespace {

using namespace igniter;

enum class Role { reader, writer, admin };
BOOST_DESCRIBE_ENUM(Role, reader, writer, admin)

struct Address {
  std::string city;
  std::optional<std::string> zip;
  static void rules(json::Rules<Address>& r) {
    r.field(&Address::city).non_empty().max_length(40);
    r.field(&Address::zip).pattern("^[0-9]{5}$");
  }
  bool operator==(const Address&) const = default;
};
BOOST_DESCRIBE_STRUCT(Address, (), (city, zip))

struct Person {
  std::string name;
  std::string email;
  std::string handle;  // a pattern without a max_length, as users write them
  int age = 0;
  double score = 0;
  std::int64_t balance = 0;
  std::uint8_t level = 0;
  bool active = false;
  Role role = Role::reader;
  std::string state = "draft";
  std::optional<Address> address;
  std::vector<Address> previous;
  std::vector<std::string> tags;
  std::vector<std::vector<int>> grid;
  std::map<std::string, int> counters;
  std::optional<std::vector<std::optional<std::string>>> notes;
  json::value extra;

  static void rules(json::Rules<Person>& r) {
    r.field(&Person::name).non_empty().max_length(100);
    r.field(&Person::email).email();
    r.field(&Person::handle).pattern("^[a-z][a-z0-9_]*$", "lowercase letters, digits and underscores");
    r.field(&Person::age).min(0).max(150);
    r.field(&Person::score).min(0.0).max(1.0).optional();
    r.field(&Person::balance).optional();
    r.field(&Person::level).optional();
    r.field(&Person::active).optional();
    r.field(&Person::role).optional();
    r.field(&Person::state).one_of({"draft", "published"}).optional();
    r.field(&Person::previous).max_items(3).optional();
    r.field(&Person::tags).min_items(1).max_items(10);
    r.field(&Person::grid).optional();
    r.field(&Person::counters).optional();
    r.check([](const Person& p) { return p.name != p.handle; }, "name and handle must differ", {"handle"});
  }
  bool operator==(const Person&) const = default;
};
BOOST_DESCRIBE_STRUCT(Person, (),
                      (name, email, handle, age, score, balance, level, active, role, state, address,
                       previous, tags, grid, counters, notes, extra))

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Request request;
  request.headers.emplace_back("Content-Type", "application/json");
  request.body.assign(reinterpret_cast<const char*>(data), size);
  json::value body;
  if (igniter::detail::parse_body(request, body)) return 0;

  auto decoded = json::decode<Person>(body);
  for (const auto& issue : decoded.issues) (void)json::stringify(json::to_json(issue));
  if (!decoded) return 0;
  // What decoded cleanly must survive its own encoding (what an action answers with).
  auto again = json::decode<Person>(json::encode(*decoded));
  if (!again) igniter::fuzz::fail("an accepted value does not decode from its own encoding");
  if (!(*again == *decoded)) igniter::fuzz::fail("an accepted value changes through encode and decode");
  return 0;
}

#pragma once
// Turns a user handler `R(Ctx&, inputs...)` into `Response(Ctx&)` that decodes and validates each input
// first, and describes those inputs (and, when R is a value rather than a Response, the answer) as JSON
// Schema.

#include <functional>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "igniter/json/decode.hpp"
#include "igniter/json/schema.hpp"
#include "igniter/server/ctx.hpp"
#include "igniter/server/inputs.hpp"
#include "igniter/server/response.hpp"

namespace igniter::detail {

template <class F>
struct callable : callable<decltype(&F::operator())> {};
template <class C, class R, class... A>
struct callable<R (C::*)(A...) const> {
  using result = R;
  using args = std::tuple<A...>;
};
template <class C, class R, class... A>
struct callable<R (C::*)(A...)> : callable<R (C::*)(A...) const> {};
template <class R, class... A>
struct callable<R (*)(A...)> {
  using result = R;
  using args = std::tuple<A...>;
};

enum class InputKind { query, params, param, body };

template <class A>
struct input_of {
  using type = std::remove_cvref_t<A>;
  static constexpr InputKind kind = InputKind::body;
};
template <class T>
struct input_of<Query<T>> {
  using type = T;
  static constexpr InputKind kind = InputKind::query;
};
template <class T>
struct input_of<Params<T>> {
  using type = T;
  static constexpr InputKind kind = InputKind::params;
};
template <FixedString Name, class T>
struct input_of<Param<Name, T>> {
  using type = T;
  static constexpr InputKind kind = InputKind::param;
  static constexpr std::string_view name = Param<Name, T>::name;
};
template <class T>
struct input_of<Body<T>> {
  using type = T;
  static constexpr InputKind kind = InputKind::body;
};
template <class A>
using input_t = input_of<std::remove_cvref_t<A>>;

/// Why a body could not be read, before any field is looked at.
struct BodyProblem {
  unsigned status;
  std::string code;
  std::string message;
};

/// Parses the request body as JSON: needs a JSON content type and a non-empty, well-formed body.
std::optional<BodyProblem> parse_body(const Request& request, json::value& out);
/// 400 with Igniter's validation envelope.
Response validation_error(const std::vector<std::pair<std::string_view, json::Issue>>& issues);

/// Facts about a handler's inputs, for the schema and for start-up checks.
struct InputSchemas {
  json::value body = nullptr, query = nullptr, params = nullptr;
};

/// Adds the path parameter `name` with schema `schema` to `params` (an object schema, made when null).
void add_param_schema(json::value& params, std::string_view name, json::value schema);

template <class R>
struct typed_response_of {
  static constexpr bool value = false;
};
template <class T>
struct typed_response_of<TypedResponse<T>> {
  static constexpr bool value = true;
  using type = T;
};

template <class F>
struct Handler {
  using traits = callable<F>;
  using args = typename traits::args;
  static constexpr std::size_t arity = std::tuple_size_v<args>;

  static_assert(arity >= 1 && std::is_same_v<std::tuple_element_t<0, args>, Ctx&>,
                "a handler's first parameter must be `igniter::Ctx&`");
  /// What the handler returns: a Response, a TypedResponse<T> (`c.response.success(post)`: a Response
  /// whose data type is known), or a value answered as `c.response.success(value)`.
  using result = std::remove_cvref_t<typename traits::result>;
  static constexpr bool returns_response = std::is_same_v<result, Response>;
  static constexpr bool returns_typed_response = typed_response_of<result>::value;
  static_assert(!std::is_same_v<result, std::optional<Response>>,
                "a handler returns igniter::Response, not std::optional<Response> (that is a procedure's)");
  static_assert(returns_response || returns_typed_response || json::detail::is_codable_v<result>,
                "a handler returns igniter::Response (e.g. `return c.response.success(data);`) or a value "
                "igniter::json::encode knows (a described struct, std::vector, std::optional, json::value, "
                "...), which is answered as `c.response.success(value)`");

  template <std::size_t... I>
  static constexpr std::size_t count_bodies(std::index_sequence<I...>) {
    return (0 + ... + (input_t<std::tuple_element_t<I + 1, args>>::kind == InputKind::body ? 1 : 0));
  }
  static constexpr std::size_t body_count = count_bodies(std::make_index_sequence<arity - 1>{});
  static_assert(body_count <= 1, "a handler takes at most one body parameter");

  template <std::size_t... I>
  static constexpr bool inputs_by_value_or_const_ref(std::index_sequence<I...>) {
    return (true && ... &&
            (!std::is_reference_v<std::tuple_element_t<I + 1, args>> ||
             std::is_const_v<std::remove_reference_t<std::tuple_element_t<I + 1, args>>>));
  }
  static_assert(inputs_by_value_or_const_ref(std::make_index_sequence<arity - 1>{}),
                "handler inputs are taken by value or by const reference");

  static InputSchemas schemas() {
    InputSchemas out;
    describe(out, std::make_index_sequence<arity - 1>{});
    return out;
  }

  /// The JSON Schema of the answer's data when the handler returns a value or a TypedResponse; null when
  /// it returns Response.
  static json::value response_schema() {
    if constexpr (returns_typed_response)
      return json::encoded_schema<typename typed_response_of<result>::type>();
    else if constexpr (!returns_response && json::detail::is_codable_v<result>)
      return json::encoded_schema<result>();
    else
      return nullptr;
  }

  /// The names of the path parameters read one by one (`Param<"id", T>`), to check against the path.
  static std::vector<std::string_view> param_names() {
    std::vector<std::string_view> out;
    names(out, std::make_index_sequence<arity - 1>{});
    return out;
  }

  static std::function<Response(Ctx&)> wrap(F fn) {
    return [fn = std::move(fn)](Ctx& c) mutable -> Response {
      return call(fn, c, std::make_index_sequence<arity - 1>{});
    };
  }

 private:
  template <std::size_t... I>
  static void describe(InputSchemas& out, std::index_sequence<I...>) {
    (describe_one<input_t<std::tuple_element_t<I + 1, args>>>(out), ...);
  }
  template <class In>
  static void describe_one(InputSchemas& out) {
    auto schema = json::schema<typename In::type>();
    if constexpr (In::kind == InputKind::query) out.query = std::move(schema);
    if constexpr (In::kind == InputKind::params) out.params = std::move(schema);
    if constexpr (In::kind == InputKind::param) add_param_schema(out.params, In::name, std::move(schema));
    if constexpr (In::kind == InputKind::body) out.body = std::move(schema);
  }

  template <std::size_t... I>
  static void names(std::vector<std::string_view>& out, std::index_sequence<I...>) {
    (name_one<input_t<std::tuple_element_t<I + 1, args>>>(out), ...);
  }
  template <class In>
  static void name_one(std::vector<std::string_view>& out) {
    if constexpr (In::kind == InputKind::param) out.push_back(In::name);
  }

  template <std::size_t... I>
  static Response call(F& fn, Ctx& c, std::index_sequence<I...>) {
    json::value body;
    if constexpr (body_count > 0) {
      if (auto problem = parse_body(c.request, body))
        return c.response.error(problem->status, problem->code, problem->message);
    }
    std::vector<std::pair<std::string_view, json::Issue>> issues;
    std::tuple<std::optional<typename input_t<std::tuple_element_t<I + 1, args>>::type>...> decoded;
    (decode_one<input_t<std::tuple_element_t<I + 1, args>>>(c, body, std::get<I>(decoded), issues), ...);
    if (!issues.empty()) return validation_error(issues);
    if constexpr (returns_response || returns_typed_response)
      return fn(c, make_arg<std::tuple_element_t<I + 1, args>>(std::move(*std::get<I>(decoded)))...);
    else if constexpr (json::detail::is_codable_v<result>)
      return c.response.success(
          fn(c, make_arg<std::tuple_element_t<I + 1, args>>(std::move(*std::get<I>(decoded)))...));
    else
      return Response{};  // not reached: the static_assert above already rejected this handler
  }

  template <class In, class T>
  static void decode_one(Ctx& c, const json::value& body, std::optional<T>& out,
                         std::vector<std::pair<std::string_view, json::Issue>>& issues) {
    auto result = [&] {
      if constexpr (In::kind == InputKind::query)
        return json::decode<T>(json::value(c.request.query_object()), json::Mode::text);
      else if constexpr (In::kind == InputKind::params)
        return json::decode<T>(json::value(c.request.params_object()), json::Mode::text);
      else if constexpr (In::kind == InputKind::param)
        return json::decode<T>(json::value(c.request.param(In::name)), json::Mode::text);
      else
        return json::decode<T>(body);
    }();
    constexpr std::string_view where = In::kind == InputKind::query  ? "query"
                                       : In::kind == InputKind::body ? "body"
                                                                     : "params";
    for (auto& issue : result.issues) {
      if constexpr (In::kind == InputKind::param)
        issue.path.insert(issue.path.begin(), std::string(In::name));
      issues.emplace_back(where, std::move(issue));
    }
    out = std::move(result.value);
  }

  template <class A, class T>
  static decltype(auto) make_arg(T&& value) {
    using Plain = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<Plain, std::remove_cvref_t<T>>)
      return std::forward<T>(value);
    else
      return Plain{{std::forward<T>(value)}};
  }
};

}  // namespace igniter::detail

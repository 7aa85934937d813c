#include "igniter/http/request.hpp"

#include <algorithm>
#include <cctype>

namespace igniter {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

namespace {

std::string_view find(const Request::Fields& fields, std::string_view name, bool ignore_case) noexcept {
  for (const auto& [key, value] : fields)
    if (ignore_case ? iequals(key, name) : key == name) return value;
  return {};
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

json::object to_object(const Request::Fields& fields) {
  json::object out;
  for (const auto& [key, value] : fields) {
    auto it = out.find(key);
    if (it == out.end()) {
      out.emplace(key, value);
    } else if (it->value().is_array()) {
      it->value().as_array().emplace_back(value);
    } else {
      json::array values{it->value(), json::value(value)};
      it->value() = std::move(values);
    }
  }
  return out;
}

}  // namespace

std::string_view Request::header(std::string_view name) const noexcept {
  return find(headers, name, true);
}

bool Request::has_header(std::string_view name) const noexcept {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& f) { return iequals(f.first, name); });
}

std::string_view Request::cookie(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers) {
    if (!iequals(key, "cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (trim(pair.substr(0, eq)) != name) continue;
      std::string_view v = trim(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return {};
}

std::string_view Request::query_param(std::string_view name) const noexcept {
  return find(query, name, false);
}

std::string_view Request::param(std::string_view name) const noexcept {
  return find(params, name, false);
}

std::string_view Request::bearer_token() const noexcept {
  std::string_view auth = header("authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (auth.size() <= kScheme.size() || !iequals(auth.substr(0, kScheme.size()), kScheme)) return {};
  return trim(auth.substr(kScheme.size()));
}

json::object Request::query_object() const {
  return to_object(query);
}

json::object Request::params_object() const {
  return to_object(params);
}

}  // namespace igniter

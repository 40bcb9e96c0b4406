#include "sim/core/json_fields.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/input_file.hpp"

namespace kunsim {
namespace {

std::string shown(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Line of byte offset `pos` in `text` (1-based).
std::size_t line_of(const std::string& text, std::size_t pos) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

}  // namespace

std::string json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    default: return "value";
  }
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

namespace {

// Scenario and sweep files are a few levels deep; a file nested thousands deep is not one, and
// the JSON library's recursive destruction would overflow the stack on it.
constexpr int kMaxJsonDepth = 128;

void check_depth(const std::string& text, const std::string& origin) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw InputError(origin + ":" + std::to_string(line_of(text, i)) + ": JSON nested deeper than " +
                         std::to_string(kMaxJsonDepth) + " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

}  // namespace

std::string json_file_text(const Json& j) { return j.dump(2) + "\n"; }

Json parse_json_text(const std::string& text, const std::string& origin) {
  check_depth(text, origin);
  // Duplicate keys are an error: nlohmann would silently keep the last one, hiding a typo'd
  // scenario. The parser callback sees each key in document order; a stack of key sets tracks
  // the objects being parsed.
  std::vector<std::set<std::string>> open_keys;
  std::string duplicate;
  auto cb = [&](int /*depth*/, Json::parse_event_t ev, Json& parsed) {
    switch (ev) {
      case Json::parse_event_t::object_start: open_keys.emplace_back(); break;
      case Json::parse_event_t::object_end: open_keys.pop_back(); break;
      case Json::parse_event_t::key:
        if (!open_keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  };
  try {
    Json j = Json::parse(text, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
    if (!duplicate.empty()) throw InputError(origin + ": duplicate key \"" + duplicate + "\"");
    return j;
  } catch (const Json::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << line_of(text, e.byte == 0 ? 0 : e.byte - 1) << ": malformed JSON ("
        << e.what() << ")";
    throw InputError(msg.str());
  } catch (const Json::exception& e) {  // e.g. out_of_range: a number too large to represent
    throw InputError(origin + ": invalid JSON (" + std::string(e.what()) + ")");
  }
}

Json parse_json_file(const std::string& path) {
  std::ifstream in = open_input_file(path, "JSON", kMaxJsonDocumentBytes);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_json_text(ss.str(), path);
}

JsonFields::JsonFields(const Json& j, std::string path) : j_(j), path_(std::move(path)) {
  if (!j_.is_object())
    throw InputError((path_.empty() ? std::string("(top level)") : path_) + ": expected object, got " +
                     json_type_name(j_));
}

bool JsonFields::has(const std::string& key) const { return j_.contains(key); }

const Json& JsonFields::at(const std::string& key) {
  read_.insert(key);
  return j_.at(key);
}

void JsonFields::fail(const std::string& key, const std::string& expected) const {
  const std::string p = path_of(key);
  if (!j_.contains(key)) throw InputError(p + ": missing, expected " + expected);
  const Json& v = j_.at(key);
  throw InputError(p + ": expected " + expected + ", got " + json_type_name(v) + " " + shown(v));
}

std::int64_t json_integer(const Json& v, const std::string& path, std::int64_t lo, std::int64_t hi) {
  const std::string want = "integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  std::int64_t x = 0;
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    x = v.get<std::int64_t>();
  } else if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi)) throw InputError(path + ": expected " + want + ", got " + shown(v));
    x = static_cast<std::int64_t>(u);
  } else if (v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>() &&
             std::fabs(v.get<double>()) < 9.0e18) {
    x = static_cast<std::int64_t>(v.get<double>());
  } else {
    throw InputError(path + ": expected " + want + ", got " + json_type_name(v) + " " + shown(v));
  }
  if (x < lo || x > hi) throw InputError(path + ": expected " + want + ", got " + shown(v));
  return x;
}

double json_number(const Json& v, const std::string& path, double lo, double hi) {
  std::ostringstream want;
  want << "number in [" << lo << ", " << hi << "]";
  if (!v.is_number()) throw InputError(path + ": expected " + want.str() + ", got " + json_type_name(v) + " " + shown(v));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) throw InputError(path + ": expected " + want.str() + ", got " + shown(v));
  return x;
}

namespace {

std::string shortest(double x) {  // the shortest text that reads back as x
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}
std::string range_text(double lo, double hi) {
  std::string out(1, '[');  // appended piece by piece: GCC 12 warns falsely on "[" + std::string&&
  out.append(shortest(lo)).append(", ").append(shortest(hi)).push_back(']');
  return out;
}

}  // namespace

void JsonFields::document(const std::string& key, const std::string& type, const std::string& dflt,
                          const std::string& range, Help help) const {
  KeyCatalogue::active()->record({.path = path_of(key),
                                  .type = type,
                                  .dflt = help.dflt ? help.dflt : dflt,
                                  .range = range,
                                  .help = help.text,
                                  .when = ""});  // the catalogue sets the condition
}

std::int64_t JsonFields::integer(const std::string& key, std::int64_t dflt, std::int64_t lo, std::int64_t hi,
                                 Help help) {
  if (recording())
    document(key, "integer", std::to_string(dflt), range_text(static_cast<double>(lo), static_cast<double>(hi)), help);
  if (!has(key)) return dflt;
  return json_integer(at(key), path_of(key), lo, hi);
}
std::int64_t JsonFields::integer(const std::string& key, std::int64_t lo, std::int64_t hi, Help help) {
  if (recording())
    document(key, "integer", "required", range_text(static_cast<double>(lo), static_cast<double>(hi)), help);
  if (!has(key)) fail(key, "integer");
  return json_integer(at(key), path_of(key), lo, hi);
}
double JsonFields::number(const std::string& key, double dflt, double lo, double hi, Help help) {
  if (recording()) document(key, "number", shortest(dflt), range_text(lo, hi), help);
  if (!has(key)) return dflt;
  return json_number(at(key), path_of(key), lo, hi);
}
double JsonFields::number(const std::string& key, double lo, double hi, Help help) {
  if (recording()) document(key, "number", "required", range_text(lo, hi), help);
  if (!has(key)) fail(key, "number");
  return json_number(at(key), path_of(key), lo, hi);
}
bool JsonFields::boolean(const std::string& key, bool dflt, Help help) {
  if (recording()) document(key, "boolean", dflt ? "true" : "false", "", help);
  if (!has(key)) return dflt;
  const Json& v = at(key);
  if (!v.is_boolean()) fail(key, "boolean");
  return v.get<bool>();
}
std::string JsonFields::string(const std::string& key, const std::string& dflt, Help help) {
  if (recording()) document(key, "string", dflt, "", help);
  if (!has(key)) return dflt;
  const Json& v = at(key);
  if (!v.is_string()) fail(key, "string");
  return v.get<std::string>();
}
std::string JsonFields::string(const std::string& key, Help help) {
  if (recording()) document(key, "string", "required", "", help);
  if (!has(key)) fail(key, "string");
  const Json& v = at(key);
  if (!v.is_string()) fail(key, "string");
  return v.get<std::string>();
}
std::string JsonFields::choice(const std::string& key, const std::string& dflt, const std::vector<std::string>& allowed,
                               Help help) {
  auto listed = [&] {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return list;
  };
  if (recording()) document(key, "choice", dflt, listed(), help);
  if (!has(key)) return dflt;
  const Json& j = at(key);
  if (!j.is_string()) fail(key, "string");
  const std::string v = j.get<std::string>();
  for (const auto& a : allowed)
    if (a == v) return v;
  throw InputError(path_of(key) + ": expected one of " + listed() + ", got \"" + v + "\"");
}
const Json* JsonFields::child(const std::string& key, Help help, const char* shape) {
  if (recording()) document(key, shape, "", "", help);
  if (!has(key)) return nullptr;
  return &at(key);
}
const Json& JsonFields::required_child(const std::string& key, Help help, const char* shape) {
  if (recording()) document(key, shape, "required", "", help);
  if (!has(key)) fail(key, "a value");
  return at(key);
}

namespace {

// Edit distance (insertions, deletions, substitutions), for did-you-mean.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

void JsonFields::finish() const {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (read_.count(it.key())) continue;
    // The known keys at this path are the ones asked for: suggest the nearest, if near enough.
    std::string best;
    std::size_t best_d = std::max<std::size_t>(2, it.key().size() / 4) + 1;
    for (const std::string& k : read_)
      if (const std::size_t d = edit_distance(it.key(), k); d < best_d) {
        best_d = d;
        best = k;
      }
    throw InputError(path_of(it.key()) + ": unknown key" +
                     (best.empty() ? "" : " (did you mean " + path_of(best) + "?)"));
  }
}

void apply_override(Json& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set " + assignment + ": expected key.path=value");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::exception&) {
    value = text;  // bare words are strings (--set policy.name=vllm); so is an unrepresentable number
  }
  Json* node = &root;
  std::size_t start = 0;
  for (;;) {
    const auto dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError("--set " + assignment + ": empty key in path");
    if (node->is_array()) {
      std::size_t idx = 0;
      try {
        idx = std::stoul(part);
      } catch (...) {
        throw InputError("--set " + assignment + ": " + part + " is not an array index");
      }
      if (idx >= node->size()) throw InputError("--set " + assignment + ": index " + part + " out of range");
      node = &(*node)[idx];
    } else {
      if (!node->is_object()) {
        if (!node->is_null()) throw InputError("--set " + assignment + ": " + part + " is inside a non-object value");
        *node = Json::object();
      }
      node = &(*node)[part];
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *node = value;
}

}  // namespace kunsim

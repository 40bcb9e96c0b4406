// JsonFields: reads one JSON object of a config with its path, checking types and ranges, and
// refuses keys nobody read. Every config struct is filled through it, so every error a user sees
// names the path: `cluster.gpus_per_node: expected integer >= 1, got "eight"`.
// Usage: JsonFields f(j, "cluster"); x = f.integer("nodes", 1, 1, 4096, Help{"nodes of 8 GPUs"}); ...;
// f.finish(). The help strings are the scenario keys' documentation (key_catalogue.hpp).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/core/input_error.hpp"
#include "sim/core/key_catalogue.hpp"

namespace kunsim {

using Json = nlohmann::json;

// A JSON output file's text (summary.json, plan.json, ...): two-space indent and a final newline.
// Every writer of one goes through it, so the CLI's files and the Python module's are the same bytes.
std::string json_file_text(const Json& j);

// Parses JSON text, turning syntax errors and duplicate keys into InputError naming `origin`
// (a file name) and the line.
Json parse_json_text(const std::string& text, const std::string& origin);
Json parse_json_file(const std::string& path);

std::string json_type_name(const Json& j);
std::string join_path(const std::string& parent, const std::string& key);

class JsonFields {
 public:
  // `j` must outlive this reader. Throws unless `j` is an object.
  JsonFields(const Json& j, std::string path);

  bool has(const std::string& key) const;
  // Typed reads. Each takes the key's help string last; while a KeyCatalogue is installed
  // (kunsim list params) every read records the key, its default, range and help.
  std::int64_t integer(const std::string& key, std::int64_t dflt, std::int64_t lo, std::int64_t hi, Help help = {});
  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi, Help help = {});  // required
  double number(const std::string& key, double dflt, double lo, double hi, Help help = {});
  double number(const std::string& key, double lo, double hi, Help help = {});  // required
  bool boolean(const std::string& key, bool dflt, Help help = {});
  std::string string(const std::string& key, const std::string& dflt, Help help = {});
  std::string string(const std::string& key, Help help = {});  // required
  // One of `allowed`; the error lists them.
  std::string choice(const std::string& key, const std::string& dflt, const std::vector<std::string>& allowed,
                     Help help = {});
  // A child value to read with its own reader; marks the key as read. `shape` says what it may
  // be ("object", "a model name or an object", ...), for the catalogue.
  const Json* child(const std::string& key, Help help = {}, const char* shape = "object");
  const Json& required_child(const std::string& key, Help help = {}, const char* shape = "object");
  std::string path_of(const std::string& key) const { return join_path(path_, key); }
  const std::string& path() const { return path_; }
  // Throws naming the first key that was never read (sorted, so the message is stable).
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

 private:
  // While a KeyCatalogue is installed (kunsim list params), each read records its key; the
  // default and range are formatted only then, not on every scenario parse.
  static bool recording() { return KeyCatalogue::active() != nullptr; }
  void document(const std::string& key, const std::string& type, const std::string& dflt, const std::string& range,
                Help help) const;
  const Json& at(const std::string& key);
  const Json& j_;
  std::string path_;
  std::set<std::string> read_;
};

// Reads a standalone value at `path` (for array elements and the like).
std::int64_t json_integer(const Json& v, const std::string& path, std::int64_t lo, std::int64_t hi);
double json_number(const Json& v, const std::string& path, double lo, double hi);

// `--set a.b.c=value`: sets a nested key, creating objects on the way; `value` is parsed as JSON
// when it is valid JSON (3, true, "x", [1,2]) and taken as a string otherwise.
void apply_override(Json& root, const std::string& assignment);

}  // namespace kunsim

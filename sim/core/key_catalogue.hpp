// KeyCatalogue: every scenario key documented where it is parsed, once. JsonFields records each
// key it is asked for (its path, type, default, range and help string) into the catalogue that
// is installed on this thread, if any; parsing a scenario is otherwise unchanged. `kunsim list
// params` installs one, parses a set of scenarios that reach every branch of the parser (run/
// key_survey.cpp), and prints what was recorded, so the listing cannot drift from the parser.
// The README's key table is generated from that listing, and a test compares the two.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace kunsim {

// A key's one-line help, given where the key is parsed: f.number("rate", 1, 0, 1e6, Help{"..."}).
// `dflt`, where given, describes a default that depends on other keys ("heads"), in place of
// the value the parse happened to compute.
struct Help {
  const char* text = "";
  const char* dflt = nullptr;
};

struct KeyDoc {
  std::string path;   // array elements as [] (deployment.groups[].tp)
  std::string type;   // integer, number, boolean, string, choice, object, ...
  std::string dflt;   // "" when the key has no default (required, or absent means off)
  std::string range;  // [lo, hi], the allowed words, or ""
  std::string help;
  std::string when;   // the condition under which it is read ("policy.name=kunserve"), or ""
};

class KeyCatalogue {
 public:
  KeyCatalogue();  // installs itself on this thread (the previous one is restored on destruction)
  ~KeyCatalogue();
  KeyCatalogue(const KeyCatalogue&) = delete;
  KeyCatalogue& operator=(const KeyCatalogue&) = delete;

  // The catalogue installed on this thread, or nullptr (the common case: nothing recorded).
  static KeyCatalogue* active();
  // Records `d` under its path with array indices normalised. The first record of a path wins,
  // except that a help string or a default fills one recorded empty.
  void record(KeyDoc d);
  // Every key, sorted by path (then by condition).
  std::vector<KeyDoc> keys() const;

  // While one lives, keys recorded on this thread carry `when` (a registered extension's own
  // keys: the same path means different things under different policies).
  class When {
   public:
    explicit When(std::string condition);
    ~When();
    When(const When&) = delete;
    When& operator=(const When&) = delete;

   private:
    std::string previous_;
  };
  // While one lives, nothing is recorded on this thread (documents that are not scenarios,
  // such as a workload profile file, read through JsonFields too).
  class Pause {
   public:
    Pause();
    ~Pause();
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;

   private:
    KeyCatalogue* paused_;
  };

 private:
  std::map<std::pair<std::string, std::string>, KeyDoc> keys_;
  KeyCatalogue* previous_;
  std::string when_;
};

// "deployment.groups.3.cost.model" -> "deployment.groups[].cost.model".
std::string normalised_key_path(const std::string& path);

}  // namespace kunsim

// A stand-in for nlohmann/json.hpp, used only where no real one is installed
// (setup.py puts this folder after the system's include folders). torch 2.10
// and newer install ATen/functorch/Interpreter.h, which includes that header,
// without the header itself (pytorch/pytorch#181565).
// csrc/operator/batching_rules.cpp includes Interpreter.h (through
// DynamicLayer.h) for the current vmap level alone and never serializes an
// interpreter: the two inline functions that would use nlohmann::json are
// parsed against these declarations and never compiled into code.
#pragma once

#include <string>

namespace nlohmann {

class json {
 public:
  template <typename T>
  json(const T& value);
  static json parse(const std::string& text);
  std::string dump() const;
  template <typename T>
  T get() const;
};

}  // namespace nlohmann

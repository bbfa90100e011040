// The Python module softsign_ext._C. Importing it loads this library, whose
// static initializers register the operators. It also holds the eager entry
// points of softsign(x), softsign(x, out=out) and softsign_(x): for plain
// tensors they call the operator through the C++ dispatcher, as torch's own
// Python bindings do, instead of through torch.ops, whose generic argument
// parsing adds to every call (benchmarks/README.md, small calls). Any other argument (tensor
// subclasses, FX proxies, objects with __torch_function__, or any call while a
// TorchFunctionMode is active) goes to the torch.ops operator, so that it sees
// the same call as before.
#include <ATen/PythonTorchFunctionTLS.h>
#include <torch/csrc/Exceptions.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/utils/pybind.h>

#include <iterator>
#include <string>
#include <variant>
#include <vector>

#include "operator/softsign.h"
#include "cpu/softsign_kernel.h"

namespace softsign_ext {
namespace {

// torch.ops.softsign_ext.<name>.<overload>, looked up on first use (the
// library's import registers it) and kept for the life of the process.
PyObject* torch_op(const char* name, const char* overload = "default") {
  pybind11::object op = pybind11::module_::import("torch")
                            .attr("ops")
                            .attr("softsign_ext")
                            .attr(name)
                            .attr(overload);
  return op.release().ptr();
}

// op(x) for a plain tensor through the dispatcher, with the GIL released as
// in torch's bindings; anything else through the torch.ops operator.
template <typename Call>
PyObject* call_operator(PyObject* x, const char* name, PyObject*& fallback,
                        Call call) {
  HANDLE_TH_ERRORS
  if (THPVariable_CheckExact(x) && !at::impl::torch_function_mode_enabled()) {
    at::Tensor result;
    {
      const pybind11::gil_scoped_release no_gil;
      result = call(THPVariable_Unpack(x));
    }
    return THPVariable_Wrap(std::move(result));
  }
  if (fallback == nullptr) {
    fallback = torch_op(name);
  }
  return PyObject_CallOneArg(fallback, x);
  END_HANDLE_TH_ERRORS
}

PyObject* softsign(PyObject* /*module*/, PyObject* x) {
  static PyObject* op = nullptr;
  return call_operator(x, "softsign", op, [](const at::Tensor& t) {
    return handles::softsign().call(t);
  });
}

// The C++ warnings of one call (out='s resize warning), kept to be raised in
// Python one frame further out than torch raises them: at the line that called
// softsign_ext.softsign, not at softsign_ext's own call of this module.
class CallerWarnings : public c10::WarningHandler {
 public:
  void process(const c10::Warning& warning) override {
    warnings_.push_back(warning);
  }

  // Raises them (stacklevel 2); false when a warnings filter turned one into
  // an exception, which is then set.
  bool raise() const {
    for (const c10::Warning& warning : warnings_) {
      std::string message = warning.msg();
      if (!warning.verbatim()) {  // as torch words its own
        message += " (Triggered internally at " +
                   std::string(warning.source_location().file) + ":" +
                   std::to_string(warning.source_location().line) + ".)";
      }
      PyObject* category =
          std::holds_alternative<c10::DeprecationWarning>(warning.type())
              ? PyExc_DeprecationWarning
              : PyExc_UserWarning;
      if (PyErr_WarnEx(category, message.c_str(), 2) < 0) {
        return false;
      }
    }
    return true;
  }

 private:
  std::vector<c10::Warning> warnings_;
};

// softsign(x, out=out): the out= operator through the dispatcher for plain
// tensors, else through torch.ops.softsign_ext.softsign.out.
PyObject* softsign_out(PyObject* /*module*/, PyObject* const* args,
                       Py_ssize_t nargs) {
  HANDLE_TH_ERRORS
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "softsign_out takes x and out");
    return nullptr;
  }
  PyObject* x = args[0];
  PyObject* out = args[1];
  if (THPVariable_CheckExact(x) && THPVariable_CheckExact(out) &&
      !at::impl::torch_function_mode_enabled()) {
    CallerWarnings warnings;
    {
      const c10::WarningUtils::WarningHandlerGuard collect(&warnings);
      const pybind11::gil_scoped_release no_gil;
      at::Tensor result = THPVariable_Unpack(out);
      handles::softsign_out().call(THPVariable_Unpack(x), result);
    }
    if (!warnings.raise()) {
      return nullptr;
    }
    Py_INCREF(out);
    return out;
  }
  static PyObject* op = nullptr;
  if (op == nullptr) {
    op = torch_op("softsign", "out");
  }
  const pybind11::dict kwargs(pybind11::arg("out") =
                                  pybind11::handle(out));
  const pybind11::tuple positional =
      pybind11::make_tuple(pybind11::handle(x));
  return PyObject_Call(op, positional.ptr(), kwargs.ptr());
  END_HANDLE_TH_ERRORS
}

PyObject* softsign_inplace(PyObject* /*module*/, PyObject* x) {
  static PyObject* op = nullptr;
  return call_operator(x, "softsign_", op, [](const at::Tensor& t) {
    // The Python object owns x; the in-place operator takes it mutably.
    at::Tensor self = t;
    return handles::softsign_().call(self);
  });
}

// The names of kSupportedDtypes ("float32", ...), for softsign_ext.SUPPORTED_DTYPES.
PyObject* supported_dtypes(PyObject* /*module*/, PyObject* /*unused*/) {
  PyObject* names = PyTuple_New(std::size(kSupportedDtypes));
  if (names == nullptr) {
    return nullptr;
  }
  for (size_t i = 0; i < std::size(kSupportedDtypes); ++i) {
    // (A std::string in some torch releases, a std::string_view in others.)
    const std::string name(c10::getDtypeNames(kSupportedDtypes[i]).first);
    PyObject* item = PyUnicode_FromString(name.c_str());
    if (item == nullptr) {
      Py_DECREF(names);
      return nullptr;
    }
    PyTuple_SET_ITEM(names, i, item);
  }
  return names;
}

// The instruction set of the CPU kernels in use ("AVX512", "SVE128", "DEFAULT", ...).
PyObject* cpu_capability(PyObject* /*module*/, PyObject* /*unused*/) {
  return PyUnicode_FromString(selected_cpu_kernels().capability);
}

PyMethodDef methods[] = {
    {"softsign", softsign, METH_O,
     "softsign($module, x, /)\n--\n\n"
     "torch.ops.softsign_ext.softsign.default(x), called through the C++ "
     "dispatcher when x is a plain tensor."},
    {"softsign_", softsign_inplace, METH_O,
     "softsign_($module, x, /)\n--\n\n"
     "torch.ops.softsign_ext.softsign_.default(x), called through the C++ "
     "dispatcher when x is a plain tensor."},
    {"softsign_out", reinterpret_cast<PyCFunction>(
                         reinterpret_cast<void (*)()>(softsign_out)),
     METH_FASTCALL,
     "softsign_out($module, x, out, /)\n--\n\n"
     "torch.ops.softsign_ext.softsign.out(x, out=out), called through the C++ "
     "dispatcher when x and out are plain tensors; its warnings are raised at "
     "the caller of the function that called this one."},
    {"supported_dtypes", supported_dtypes, METH_NOARGS,
     "supported_dtypes($module, /)\n--\n\n"
     "The names of the dtypes the kernels are compiled for."},
    {"cpu_capability", cpu_capability, METH_NOARGS,
     "cpu_capability($module, /)\n--\n\n"
     "The instruction set of the CPU kernels in use."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, methods};

}  // namespace
}  // namespace softsign_ext

PyMODINIT_FUNC PyInit__C(void) {
  return PyModule_Create(&softsign_ext::module_def);
}

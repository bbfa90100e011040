// Uses softsign_ext from C++, with no Python in the process: the operator library is
// linked (CMakeLists.txt), which registers torch.ops.softsign_ext's operators with
// torch's dispatcher when the program loads.
//
//   softsign_example DEVICE INPUT OUTPUT MODEL...
//
// reads two tensors from INPUT (a list saved by torch.save): x for the operator, and the
// models' input. On DEVICE it computes softsign(x), its gradient with respect to x, and
// each MODEL's output: a TorchScript file (scripted or traced in Python), or an
// AOTInductor package (a .pt2 file). It saves them to OUTPUT, in that order, as a tuple
// of tensors for torch.load (tests/test_cpp.py checks them).
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace {

std::vector<char> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  TORCH_CHECK(file, "cannot read ", path);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  TORCH_CHECK(file, "cannot write ", path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: " << argv[0] << " DEVICE INPUT OUTPUT MODEL...\n";
    return 2;
  }
  const torch::Device device(argv[1]);
  const c10::List<c10::IValue> inputs = torch::pickle_load(read_file(argv[2])).toList();
  const torch::Tensor x = inputs.get(0).toTensor().to(device);
  const torch::Tensor model_input = inputs.get(1).toTensor().to(device);
  std::vector<torch::Tensor> results;

  // The operator, through the dispatcher, as torch.ops.softsign_ext.softsign in Python.
  const auto softsign = c10::Dispatcher::singleton()
                            .findSchemaOrThrow("softsign_ext::softsign", "")
                            .typed<torch::Tensor(const torch::Tensor&)>();
  results.push_back(softsign.call(x));

  // Its backward: the operator library registers the autograd formula too.
  const torch::Tensor leaf = x.detach().requires_grad_();
  softsign.call(leaf).backward(torch::ones_like(leaf));
  results.push_back(leaf.grad());

  const torch::NoGradGuard no_grad;
  for (int i = 4; i < argc; ++i) {
    const std::string path = argv[i];
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".pt2") == 0) {
      // An AOTInductor package compiled from a model that uses softsign.
      torch::inductor::AOTIModelPackageLoader package(path);
      results.push_back(package.run({model_input})[0]);
    } else {
      // A TorchScript module saved from Python.
      torch::jit::script::Module module = torch::jit::load(path, device);
      module.eval();
      results.push_back(module.forward({model_input}).toTensor());
    }
  }

  std::vector<c10::IValue> on_cpu;
  for (const torch::Tensor& result : results) {
    on_cpu.emplace_back(result.cpu());
  }
  write_file(argv[3], torch::pickle_save(c10::ivalue::Tuple::create(std::move(on_cpu))));
  std::cout << "softsign_example: " << results.size() << " results on " << device << "\n";
  return 0;
}

// Runs an ExecuTorch program that uses softsign_ext, with no Python in the process:
//
//   run_program PROGRAM ROWS COLUMNS INPUT OUTPUT
//
// loads PROGRAM (a .pte file), runs its forward method on a ROWS x COLUMNS float32 tensor
// read from INPUT (raw bytes), and writes its first output to OUTPUT (raw float32 bytes),
// printing that output's sizes. softsign_ext::softsign.out is in ExecuTorch's kernel
// registry because CMakeLists.txt links softsign_ext's ExecuTorch kernel library.
#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: " << argv[0] << " PROGRAM ROWS COLUMNS INPUT OUTPUT\n";
    return 2;
  }
  const int32_t rows = std::atoi(argv[2]);
  const int32_t columns = std::atoi(argv[3]);
  std::vector<float> input(static_cast<size_t>(rows) * columns);
  std::ifstream input_file(argv[4], std::ios::binary);
  if (!input_file.read(reinterpret_cast<char*>(input.data()),
                       static_cast<std::streamsize>(input.size() * sizeof(float)))) {
    std::cerr << "cannot read " << input.size() << " floats from " << argv[4] << "\n";
    return 1;
  }

  executorch::extension::Module module(argv[1]);
  const auto x = executorch::extension::from_blob(input.data(), {rows, columns});
  const auto result = module.forward(x);
  if (!result.ok()) {
    std::cerr << "forward of " << argv[1] << " failed: ExecuTorch error 0x" << std::hex
              << static_cast<int>(result.error()) << "\n";
    return 1;
  }
  const auto& output = result->at(0).toTensor();
  std::ofstream output_file(argv[5], std::ios::binary);
  output_file.write(reinterpret_cast<const char*>(output.const_data_ptr<float>()),
                    static_cast<std::streamsize>(output.numel() * sizeof(float)));
  if (!output_file) {
    std::cerr << "cannot write " << argv[5] << "\n";
    return 1;
  }
  for (const auto size : output.sizes()) {
    std::cout << size << " ";
  }
  std::cout << "\n";
  return 0;
}

// The C++ wrapper (mrbcr.hpp) in use: load a model, deconvolve a 16-bit frame into
// float, handle an error as an exception.
//
// Build (one line): g++ -std=c++17 -O2 -Wall -Wextra -Werror -Iinclude -Iexamples/cpp
//     examples/cpp/example.cpp -Ltarget/release -lmrbcr -o example
// Run:   ./example MODEL.safetensors
#include <cstdint>
#include <iostream>
#include <vector>

#include "mrbcr.hpp"

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " MODEL.safetensors\n";
        return 2;
    }
    try {
        const mrbcr::Model model(argv[1]);
        std::cout << "model '" << model.metadata("name") << "', licence "
                  << model.metadata("license") << "\n";

        const size_t width = 96, height = 64;
        std::vector<uint16_t> frame(width * height);
        for (size_t i = 0; i < frame.size(); i++) frame[i] = uint16_t(300 + (i * 7919) % 1000);
        std::vector<float> restored(frame.size());
        mrbcr::Options options;
        options.tile(32).overlap(8).normalization("percentile:1:99.8");
        model.deconvolve(frame.data(), restored.data(), width, height, 1, &options);
        std::cout << "restored " << width << " x " << height << ", first pixel "
                  << restored[0] << "\n";

        try {
            options.normalization("gauss");
        } catch (const mrbcr::Error &e) {
            std::cout << "as expected: " << e.what() << " (status " << e.status() << ")\n";
        }
    } catch (const mrbcr::Error &e) {
        std::cerr << "mrbcr: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

// mrbcr.hpp: a small C++17 RAII wrapper over the C interface (include/mrbcr.h).
// Header-only; link with -lmrbcr. Failures throw mrbcr::Error with the library's
// message and status. A Model may be shared by threads (deconvolve is const).
#ifndef MRBCR_HPP
#define MRBCR_HPP

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "mrbcr.h"

namespace mrbcr {

// A failed call: the library's message, and its status.
class Error : public std::runtime_error {
  public:
    explicit Error(mrbcr_status status)
        : std::runtime_error(mrbcr_last_error_message()), status_(status) {}
    mrbcr_status status() const noexcept { return status_; }

  private:
    mrbcr_status status_;
};

inline void check(mrbcr_status status) {
    if (status != MRBCR_STATUS_OK) throw Error(status);
}

// The mrbcr_pixel_type of a C++ pixel type.
template <typename T> constexpr uint32_t pixel_type();
template <> constexpr uint32_t pixel_type<uint8_t>() { return MRBCR_PIXEL_TYPE_U8; }
template <> constexpr uint32_t pixel_type<uint16_t>() { return MRBCR_PIXEL_TYPE_U16; }
template <> constexpr uint32_t pixel_type<float>() { return MRBCR_PIXEL_TYPE_F32; }
template <> constexpr uint32_t pixel_type<double>() { return MRBCR_PIXEL_TYPE_F64; }

// Deconvolution settings (defaults as mrbcr_options_new); setters chain.
class Options {
  public:
    Options() {
        mrbcr_options *raw = nullptr;
        check(mrbcr_options_new(&raw));
        handle_.reset(raw);
    }
    Options &tile(size_t tile) { return set(mrbcr_options_set_tile(get(), tile)); }
    Options &overlap(size_t overlap) { return set(mrbcr_options_set_overlap(get(), overlap)); }
    Options &normalization(const std::string &text) {
        return set(mrbcr_options_set_normalization(get(), text.c_str()));
    }
    Options &output_range(mrbcr_output_range range) {
        return set(mrbcr_options_set_output_range(get(), range));
    }
    Options &threads(size_t threads) { return set(mrbcr_options_set_threads(get(), threads)); }
    mrbcr_options *get() const noexcept { return handle_.get(); }

  private:
    Options &set(mrbcr_status status) {
        check(status);
        return *this;
    }
    struct Free {
        void operator()(mrbcr_options *o) const noexcept { mrbcr_options_free(o); }
    };
    std::unique_ptr<mrbcr_options, Free> handle_;
};

// A loaded model (movable, not copyable).
class Model {
  public:
    explicit Model(const std::string &path) {
        mrbcr_model *raw = nullptr;
        check(mrbcr_model_load(path.c_str(), &raw));
        handle_.reset(raw);
    }

    // A metadata value (see mrbcr_model_metadata): "name", "license", ...
    std::string metadata(const std::string &key) const {
        const char *value = nullptr;
        size_t len = 0;
        check(mrbcr_model_metadata(handle_.get(), key.c_str(), &value, &len));
        return std::string(value, len);
    }

    // Deconvolves `planes` packed planes of width x height pixels from `input` into
    // `output` (same sizes; any pixel types). Safe to call from several threads.
    template <typename In, typename Out>
    void deconvolve(const In *input, Out *output, size_t width, size_t height,
                    size_t planes = 1, const Options *options = nullptr) const {
        const mrbcr_image_in in = {input, pixel_type<In>(), width, height, planes, 0, 0};
        const mrbcr_image_out out = {output, pixel_type<Out>(), width, height, planes, 0, 0};
        check(mrbcr_deconvolve(handle_.get(), options ? options->get() : nullptr, &in, &out,
                               nullptr, nullptr));
    }

  private:
    struct Free {
        void operator()(mrbcr_model *m) const noexcept { mrbcr_model_free(m); }
    };
    std::unique_ptr<mrbcr_model, Free> handle_;
};

} // namespace mrbcr

#endif

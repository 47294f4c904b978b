#include "model/data/image_folder.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/augment/image_ops.h"

namespace simclr::model {
namespace {

namespace fs = std::filesystem;

bool IsImageName(const fs::path& path) {
  const std::string ext = absl::AsciiStrToLower(path.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

struct JpegErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnJpegError(j_common_ptr cinfo) {
  auto* manager = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, manager->message);
  std::longjmp(manager->jump, 1);
}

// Decodes with libjpeg. No object with a destructor is created between
// setjmp and the calls that may longjmp back to it.
absl::Status DecodeJpeg(const std::string& path, const std::string& bytes, int64_t channels,
                        DecodedImage& out) {
  jpeg_decompress_struct cinfo;
  JpegErrorManager errors;
  cinfo.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = OnJpegError;
  errors.message[0] = '\0';
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return absl::DataLossError(absl::StrCat(path, ": JPEG decode failed: ", errors.message));
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_start_decompress(&cinfo);
  out.height = cinfo.output_height;
  out.width = cinfo.output_width;
  out.channels = cinfo.output_components;
  out.pixels.resize(out.height * out.width * out.channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.pixels.data() + cinfo.output_scanline * out.width * out.channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  // Corrupt or truncated data is only a warning to libjpeg (it pads with
  // grey); a training set should not silently hold such images.
  const long warnings = errors.base.num_warnings;
  if (warnings > 0) {
    (*errors.base.format_message)(reinterpret_cast<j_common_ptr>(&cinfo), errors.message);
  }
  jpeg_destroy_decompress(&cinfo);
  if (warnings > 0) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt JPEG data: ", errors.message));
  }
  return absl::OkStatus();
}

absl::Status DecodePng(const std::string& path, const std::string& bytes, int64_t channels,
                       DecodedImage& out) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    return absl::DataLossError(absl::StrCat(path, ": PNG decode failed: ", image.message));
  }
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  out.height = image.height;
  out.width = image.width;
  out.channels = channels;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    return absl::DataLossError(absl::StrCat(path, ": PNG decode failed: ", message));
  }
  return absl::OkStatus();
}

// HWC pixels -> CHW, resized to height x width.
std::vector<uint8_t> ToChwResized(const DecodedImage& decoded, int64_t height, int64_t width) {
  const int64_t c = decoded.channels;
  const int64_t hw = decoded.height * decoded.width;
  std::vector<uint8_t> chw(c * hw);
  for (int64_t i = 0; i < hw; ++i) {
    for (int64_t k = 0; k < c; ++k) chw[k * hw + i] = decoded.pixels[i * c + k];
  }
  if (decoded.height == height && decoded.width == width) return chw;
  const FloatImage image = FromUint8(chw.data(), c, decoded.height, decoded.width);
  return ToUint8(ResizedCrop(image, 0, 0, decoded.height, decoded.width, height, width));
}

}  // namespace

absl::StatusOr<DecodedImage> DecodeImageFile(const std::string& path, int64_t channels) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  DecodedImage out;
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    RETURN_IF_ERROR(DecodeJpeg(path, bytes, channels, out));
  } else if (bytes.size() >= 8 && png_sig_cmp(b, 0, 8) == 0) {
    RETURN_IF_ERROR(DecodePng(path, bytes, channels, out));
  } else {
    return absl::DataLossError(
        absl::StrCat(path, ": neither a JPEG nor a PNG file (", bytes.size(), " bytes)"));
  }
  if (out.height <= 0 || out.width <= 0 || out.channels != channels) {
    return absl::DataLossError(absl::StrCat(path, ": decoded to ", out.height, "x", out.width,
                                            "x", out.channels, ", expected ", channels,
                                            " channels"));
  }
  return out;
}

ImageFolderDataset::ImageFolderDataset(at::Tensor images, std::vector<int64_t> labels,
                                       std::vector<std::string> class_names,
                                       std::vector<std::string> files)
    : InMemoryDataset(std::move(images), std::move(labels),
                      static_cast<int64_t>(class_names.size())),
      class_names_(std::move(class_names)),
      files_(std::move(files)) {}

absl::StatusOr<std::unique_ptr<ImageFolderDataset>> ImageFolderDataset::Open(
    const std::string& root, const ImageFolderOptions& options) {
  if (options.height <= 0 || options.width <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "image-folder image size ", options.height, "x", options.width,
        "; expected a positive height and width"));
  }
  if (options.channels != 1 && options.channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat("image-folder channels = ", options.channels,
                                                   "; expected 1 or 3"));
  }
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(absl::StrCat("image-folder root ", root, " is not a folder"));
  }
  std::vector<std::string> class_names;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory()) class_names.push_back(entry.path().filename().string());
  }
  if (ec) return absl::NotFoundError(absl::StrCat(root, ": ", ec.message()));
  std::sort(class_names.begin(), class_names.end());
  if (class_names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image-folder root ", root, " has no class sub-folders"));
  }

  std::vector<std::string> files;
  std::vector<int64_t> labels;
  for (size_t label = 0; label < class_names.size(); ++label) {
    std::vector<std::string> class_files;
    for (const fs::directory_entry& entry :
         fs::directory_iterator(fs::path(root) / class_names[label], ec)) {
      if (entry.is_regular_file() && IsImageName(entry.path())) {
        class_files.push_back(entry.path().string());
      }
    }
    std::sort(class_files.begin(), class_files.end());
    for (std::string& f : class_files) {
      files.push_back(std::move(f));
      labels.push_back(static_cast<int64_t>(label));
    }
  }
  if (files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("image-folder root ", root, " has no .jpg, .jpeg or .png files"));
  }

  try {
    const int64_t n = static_cast<int64_t>(files.size());
    const int64_t pixels = options.channels * options.height * options.width;
    at::Tensor images = at::empty({n, options.channels, options.height, options.width},
                                  at::kByte);
    uint8_t* out = images.data_ptr<uint8_t>();
    for (int64_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(const DecodedImage decoded, DecodeImageFile(files[i], options.channels));
      const std::vector<uint8_t> chw = ToChwResized(decoded, options.height, options.width);
      std::memcpy(out + i * pixels, chw.data(), pixels);
    }
    return std::unique_ptr<ImageFolderDataset>(new ImageFolderDataset(
        std::move(images), std::move(labels), std::move(class_names), std::move(files)));
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("image-folder ", root, ": ", e.what_without_backtrace()));
  }
}

}  // namespace simclr::model

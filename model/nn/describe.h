// Analytic size and cost of a SimCLRv2 model, computed from layer shapes
// without building tensors (so ResNet-152 3x+SK, 795M parameters, is
// described instantly). Torch-free.
//
// Counting conventions:
// - Parameters: every trainable tensor element (conv / linear weights, linear
//   biases, BN gamma and beta). BN running statistics are buffers, not
//   parameters.
// - MACs (multiply-accumulates) per image, forward pass: conv layers
//   (H_out * W_out * k * k * C_in * C_out) and linear layers (in * out).
//   BN, ReLU, pooling, padding, the residual add and the SK softmax /
//   weighting are not counted; they are under 1% of a ResNet's total.
// - FLOPs: a multiply-add counts as 2 FLOPs, so flops = 2 * macs. (The
//   often-quoted "4.1 GFLOPs" of ResNet-50 at 224x224 is 4.1e9 MACs.)
#ifndef SIMCLR_MODEL_NN_DESCRIBE_H_
#define SIMCLR_MODEL_NN_DESCRIBE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "model/nn/options.h"

namespace simclr::model {

struct ModelDescription {
  int64_t num_features = 0;       // encoder output width F
  int64_t encoder_params = 0;     // ResNet (no supervised fc)
  int64_t head_params = 0;        // projection head
  int64_t classifier_params = 0;  // 0 without a classifier
  int64_t total_params = 0;
  // Per image at options.resnet.image_size (square, in_channels channels).
  int64_t encoder_macs = 0;
  int64_t head_macs = 0;
  int64_t classifier_macs = 0;
  int64_t macs_per_image = 0;   // encoder + head + classifier
  int64_t flops_per_image = 0;  // 2 * macs_per_image
  int64_t encoder_feature_map_size = 0;  // spatial side before global pooling
};

// InvalidArgument (naming the field) for invalid options.
absl::StatusOr<ModelDescription> DescribeModel(const ModelOptions& options);

}  // namespace simclr::model

#endif  // SIMCLR_MODEL_NN_DESCRIBE_H_

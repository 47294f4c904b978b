// RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status / absl::StatusOr.
// Debian's Abseil (20220623) does not ship status macros of its own.
//
//   absl::Status Load(const std::string& path) {
//     RETURN_IF_ERROR(CheckExists(path));
//     ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
//     ...
//   }
#ifndef SIMCLR_COMMON_STATUS_MACROS_H_
#define SIMCLR_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SIMCLR_STATUS_CONCAT_INNER_(a, b) a##b
#define SIMCLR_STATUS_CONCAT_(a, b) SIMCLR_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) once and returns it if it is not OK.
#define RETURN_IF_ERROR(expr)                                      \
  do {                                                             \
    ::absl::Status simclr_status_ = (expr);                        \
    if (!simclr_status_.ok()) return simclr_status_;               \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; returns its status if it is
// an error, else moves its value into `lhs` (a declaration or an lvalue).
#define ASSIGN_OR_RETURN(lhs, rexpr)                                          \
  SIMCLR_ASSIGN_OR_RETURN_IMPL_(                                              \
      SIMCLR_STATUS_CONCAT_(simclr_statusor_, __LINE__), lhs, rexpr)

#define SIMCLR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // SIMCLR_COMMON_STATUS_MACROS_H_

//===- Reduce.h - Element-wise reduction shared by the collectives -*- C++
//-*-===//
//
// Every collective implementation combines its members' values with this one
// function, in group order, so that all of them give bit-identical results.
//
//===----------------------------------------------------------------------===//

#ifndef SWITCHYARD_RUNTIME_COLLECTIVES_REDUCE_H
#define SWITCHYARD_RUNTIME_COLLECTIVES_REDUCE_H

#include "switchyard/Runtime/Collective.h"

#include <cstddef>

namespace switchyard::runtime {

/// output[0, count) = inputs[0] op inputs[1] op ..., left to right, for f32,
/// i32 and i64 (other dtypes leave `output` alone). Inputs are combined tile
/// by tile, so `output` may alias an input.
void reduceInOrder(DType dtype, absl::Span<const std::byte *const> inputs,
                   std::byte *output, int64_t count, ReduceOp op);

} // namespace switchyard::runtime

#endif // SWITCHYARD_RUNTIME_COLLECTIVES_REDUCE_H

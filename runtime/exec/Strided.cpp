//===- Strided.cpp - Loops over named-dimension index spaces --------------===//

#include "runtime/exec/Strided.h"


namespace switchyard::runtime {

std::vector<int64_t> rowMajorStrides(const TensorSpec &type) {
  std::vector<int64_t> strides(type.dims.size());
  int64_t stride = 1;
  for (size_t d = type.dims.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= type.dims[d].size;
  }
  return strides;
}

std::vector<int64_t> stridesIn(const TensorSpec &tensor,
                               const TensorSpec &space) {
  const std::vector<int64_t> own = rowMajorStrides(tensor);
  std::vector<int64_t> strides(space.dims.size(), 0);
  for (size_t d = 0; d < space.dims.size(); ++d)
    if (int t = tensor.find(space.dims[d].name); t >= 0)
      strides[d] = own[t];
  return strides;
}

int64_t strideOf(const TensorSpec &type, const std::string &name) {
  return rowMajorStrides(type)[type.find(name)];
}

Choices choicesOf(const TensorSpec &type, const std::string &name) {
  if (name.empty())
    return {};
  return {type.dims[type.find(name)].size, strideOf(type, name)};
}

StridedLoop::StridedLoop(std::vector<int64_t> shape,
                         std::vector<std::vector<int64_t>> strides)
    : strides_(strides.size()) {
  for (int64_t size : shape)
    numElements_ *= size;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    // Merge into the previous kept dimension when every tensor steps
    // through both as through one.
    bool merge = !shape_.empty();
    for (size_t k = 0; merge && k < strides.size(); ++k)
      merge = strides_[k].back() == strides[k][d] * shape[d];
    if (merge) {
      shape_.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); ++k)
        strides_[k].back() = strides[k][d];
      continue;
    }
    shape_.push_back(shape[d]);
    for (size_t k = 0; k < strides.size(); ++k)
      strides_[k].push_back(strides[k][d]);
  }
}

} // namespace switchyard::runtime

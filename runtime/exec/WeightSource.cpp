//===- WeightSource.cpp - Where a program's weights come from -------------===//

#include "switchyard/Runtime/WeightSource.h"

#include "switchyard/Runtime/Status.h"

#include "absl/strings/str_cat.h"

namespace switchyard::runtime {

WeightSource::~WeightSource() = default;

absl::StatusOr<HostTensor>
WeightSource::readSlice(absl::string_view name,
                        absl::Span<const DimRange> slice) const {
  SY_ASSIGN_OR_RETURN(WeightInfo info, describe(name));
  SY_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                      sliceShape(info.shape, slice));
  SY_ASSIGN_OR_RETURN(HostTensor tensor,
                      HostTensor::allocate(info.dtype, std::move(shape)));
  SY_RETURN_IF_ERROR(readSliceInto(
      name, slice,
      {static_cast<std::byte *>(tensor.data()), tensor.byteSize()}));
  return tensor;
}

absl::StatusOr<WeightInfo>
CheckpointWeightSource::describe(absl::string_view name) const {
  const TensorInfo *info = checkpoint_.find(name);
  if (!info)
    return absl::NotFoundError(
        absl::StrCat("the checkpoint has no tensor '", name, "'"));
  return WeightInfo{info->dtype, info->shape};
}

absl::Status
CheckpointWeightSource::readSliceInto(absl::string_view name,
                                      absl::Span<const DimRange> slice,
                                      absl::Span<std::byte> dst) const {
  return checkpoint_.readSliceInto(name, slice, dst);
}

void MapWeightSource::add(std::string name, HostTensor tensor) {
  tensors_.insert_or_assign(std::move(name), std::move(tensor));
}

absl::StatusOr<const HostTensor *>
MapWeightSource::lookup(absl::string_view name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end())
    return absl::NotFoundError(absl::StrCat("no weight tensor '", name, "'"));
  return &it->second;
}

absl::StatusOr<WeightInfo>
MapWeightSource::describe(absl::string_view name) const {
  SY_ASSIGN_OR_RETURN(const HostTensor *tensor, lookup(name));
  return WeightInfo{tensor->dtype(), tensor->shape()};
}

absl::Status MapWeightSource::readSliceInto(absl::string_view name,
                                            absl::Span<const DimRange> slice,
                                            absl::Span<std::byte> dst) const {
  SY_ASSIGN_OR_RETURN(const HostTensor *tensor, lookup(name));
  SY_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                      sliceShape(tensor->shape(), slice));
  SY_ASSIGN_OR_RETURN(int64_t count,
                      checkedNumElements(shape, tensor->dtype()));
  if (dst.size() != count * dtypeSize(tensor->dtype()))
    return absl::InvalidArgumentError(absl::StrCat(
        "weight '", name, "': a slice of ", count * dtypeSize(tensor->dtype()),
        " bytes does not fit a buffer of ", dst.size()));
  copySlice(tensor->data(), tensor->shape(), dtypeSize(tensor->dtype()), slice,
            dst.data());
  return absl::OkStatus();
}

} // namespace switchyard::runtime

//===- CudaIndexingTest.cpp - The cuda backend's index spaces, on the host ===//
//
// The Indexers that the kernels walk, walked here on the host the way the
// kernels do (row-major, the last dimension fastest), so they run without a
// GPU. The NCCL path's block packing is checked by simulating each
// collective over a group: pack the blocks as the backend does, exchange
// them as NCCL would, unpack, and compare with the collective's definition.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/Indexing.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <numeric>

namespace switchyard::runtime::cuda {
namespace {

/// dst[offset 1] = src[offset 0] over `ix`, as launchStridedCopy does.
void copy(const Indexer &ix, const std::vector<float> &src,
          std::vector<float> &dst) {
  for (int64_t linear = 0; linear < ix.count; ++linear) {
    int64_t rest = linear, from = 0, to = 0;
    for (int d = ix.rank - 1; d >= 0; --d) {
      const int64_t i = d > 0 ? rest % ix.shape[d] : rest;
      rest = d > 0 ? rest / ix.shape[d] : 0;
      from += i * ix.strides[0][d];
      to += i * ix.strides[1][d];
    }
    dst.at(to) = src.at(from);
  }
}

int64_t countOf(const std::vector<int64_t> &shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t(1),
                         std::multiplies<>());
}

/// Element `index` of a row-major tensor of `shape`.
int64_t at(const std::vector<int64_t> &shape,
           const std::vector<int64_t> &index) {
  int64_t offset = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    offset = offset * shape[d] + index[d];
  return offset;
}

/// Member `member`'s tensor of `shape`: distinct values everywhere.
std::vector<float> memberTensor(const std::vector<int64_t> &shape,
                                int64_t member) {
  std::vector<float> values(countOf(shape));
  std::iota(values.begin(), values.end(), 1000.0f * member);
  return values;
}

/// The blocks of `value` along `axis` in one piece each, as the backend
/// sends them: `value` itself where they already are.
std::vector<float> packed(const std::vector<float> &value,
                          const std::vector<int64_t> &shape, int axis,
                          int64_t n) {
  const BlockLayout layout = *blockLayoutAlong(shape, axis, n);
  if (layout.outer == 1)
    return value;
  std::vector<float> blocks(value.size());
  copy(*blocksIndexer(layout, n, true), value, blocks);
  return blocks;
}

/// Received blocks, in one piece each, put in place along `axis` of a
/// tensor of `shape`.
std::vector<float> unpacked(const std::vector<float> &blocks,
                            const std::vector<int64_t> &shape, int axis,
                            int64_t n) {
  const BlockLayout layout = *blockLayoutAlong(shape, axis, n);
  if (layout.outer == 1)
    return blocks;
  std::vector<float> value(blocks.size());
  copy(*blocksIndexer(layout, n, false), blocks, value);
  return value;
}

/// Whether the blocks of `shape` along `axis` each lie in one piece, which
/// the backend sends and receives in place.
bool inOnePiece(const std::vector<int64_t> &shape, int axis) {
  return blockLayoutAlong(shape, axis, 2)->outer == 1;
}

TEST(CudaIndexingTest, BlocksContiguous) {
  EXPECT_TRUE(inOnePiece({4, 6}, 0));
  EXPECT_TRUE(inOnePiece({1, 4, 6}, 1));
  EXPECT_FALSE(inOnePiece({3, 4, 6}, 1));
  EXPECT_FALSE(inOnePiece({1, 2, 4}, 2));
}

TEST(CudaIndexingTest, PackAndUnpackBlocks) {
  const std::vector<int64_t> shape = {3, 4, 6};
  const std::vector<float> x = memberTensor(shape, 0);
  for (int axis : {1, 2}) {
    const int64_t n = 2, size = shape[axis] / n;
    const std::vector<float> blocks = packed(x, shape, axis, n);
    // Block j holds the slice [j size, (j + 1) size) along `axis`, row-major.
    const std::vector<int64_t> block = blockShape(shape, axis, n);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t a = 0; a < block[0]; ++a)
        for (int64_t b = 0; b < block[1]; ++b)
          for (int64_t c = 0; c < block[2]; ++c) {
            std::vector<int64_t> index = {a, b, c};
            index[axis] += j * size;
            EXPECT_EQ(blocks[j * countOf(block) + at(block, {a, b, c})],
                      x[at(shape, index)])
                << "axis " << axis << " block " << j;
          }
    EXPECT_EQ(unpacked(blocks, shape, axis, n), x);
  }
}

/// all_to_all over a group of `n`: member r sends its block j along
/// `split` to member j and puts what member j sent it at block j along
/// `concat`. Expected: out_r block j (concat) = in_j block r (split).
void checkAllToAll(const std::vector<int64_t> &in, int split, int concat,
                   int64_t n) {
  SCOPED_TRACE(::testing::Message() << "split " << split << ", concat "
                                    << concat << ", " << n << " members");
  std::vector<int64_t> out = in;
  out[split] /= n;
  out[concat] *= n;
  const int64_t blockSize = countOf(in) / n;
  std::vector<std::vector<float>> sent;
  for (int64_t r = 0; r < n; ++r)
    sent.push_back(packed(memberTensor(in, r), in, split, n));
  for (int64_t r = 0; r < n; ++r) {
    std::vector<float> received(countOf(in));
    for (int64_t j = 0; j < n; ++j)
      std::copy_n(sent[j].begin() + r * blockSize, blockSize,
                  received.begin() + j * blockSize);
    const std::vector<float> result = unpacked(received, out, concat, n);
    const std::vector<int64_t> block = blockShape(in, split, n);
    for (int64_t j = 0; j < n; ++j) {
      const std::vector<float> source = memberTensor(in, j);
      for (int64_t e = 0; e < countOf(block); ++e) {
        // Element e of the block, as an index into the block.
        std::vector<int64_t> index(block.size());
        for (int64_t d = block.size() - 1, rest = e; d >= 0; --d) {
          index[d] = rest % block[d];
          rest /= block[d];
        }
        std::vector<int64_t> from = index, to = index;
        from[split] += r * block[split];
        to[concat] += j * (out[concat] / n);
        ASSERT_EQ(result[at(out, to)], source[at(in, from)])
            << "member " << r << ", from member " << j;
      }
    }
  }
}

TEST(CudaIndexingTest, AllToAllThroughContiguousBlocks) {
  checkAllToAll({8, 2, 3, 4}, 0, 1, 4); // dispatch: both contiguous
  checkAllToAll({2, 8, 3, 4}, 1, 0, 2); // combine: packed send
  checkAllToAll({3, 4, 6}, 1, 2, 2);    // packed send, unpacked receive
  checkAllToAll({3, 4, 6}, 2, 1, 2);
  checkAllToAll({4, 6}, 0, 1, 2); // unpacked receive only
}

TEST(CudaIndexingTest, AllGatherThroughContiguousBlocks) {
  // Member j's tensor lands at block j along `axis` of the result.
  const std::vector<int64_t> in = {3, 2, 5};
  const int64_t n = 3;
  for (int axis : {0, 1, 2}) {
    std::vector<int64_t> out = in;
    out[axis] *= n;
    std::vector<float> gathered;
    for (int64_t j = 0; j < n; ++j) {
      const std::vector<float> member = memberTensor(in, j);
      gathered.insert(gathered.end(), member.begin(), member.end());
    }
    const std::vector<float> result = unpacked(gathered, out, axis, n);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t a = 0; a < in[0]; ++a)
        for (int64_t b = 0; b < in[1]; ++b)
          for (int64_t c = 0; c < in[2]; ++c) {
            std::vector<int64_t> to = {a, b, c};
            to[axis] += j * in[axis];
            EXPECT_EQ(result[at(out, to)],
                      memberTensor(in, j)[at(in, {a, b, c})])
                << "axis " << axis;
          }
  }
}

} // namespace
} // namespace switchyard::runtime::cuda

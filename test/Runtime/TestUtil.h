//===- TestUtil.h - Helpers shared by the runtime unit tests ----*- C++ -*-===//

#ifndef SWITCHYARD_TEST_RUNTIME_TESTUTIL_H
#define SWITCHYARD_TEST_RUNTIME_TESTUTIL_H

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <filesystem>
#include <fstream>
#include <string>

namespace switchyard::runtime {

/// A fresh empty directory for one test, removed afterwards.
class TempDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           (std::string("sy_") + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string &name) const { return (dir_ / name); }

  /// Writes `bytes` to the file `name` and returns its path.
  std::string writeFile(const std::string &name, const std::string &bytes) {
    std::ofstream out(path(name), std::ios::binary);
    out << bytes;
    return path(name);
  }

  std::filesystem::path dir_;
};

} // namespace switchyard::runtime

#endif // SWITCHYARD_TEST_RUNTIME_TESTUTIL_H

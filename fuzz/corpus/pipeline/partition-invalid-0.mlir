// expected-error@+1 {{partitioning needs the module's 'mtf.mesh'; run -sy-assign-layouts first}}
module {
  func.func @f() {
    return
  }
}

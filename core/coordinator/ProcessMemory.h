#pragma once
// ProcessMemory: the coordinator process keeps the memory of its large, short-lived buffers.
//
//   keepLargeBuffersInProcess();   // once, at the start of `raven-coordinator serve`
//
// Every result brings buffers of a gradient's size (0.94 MB for the MLP: the message, the assembled
// payload, the decoded floats), allocated on one thread and freed on another. glibc serves such
// sizes with fresh mmap()s or trims them back to the kernel, so each one is zero-filled page by page
// on first touch: page faults were a sixth of the coordinator's CPU under load
// (docs/benchmarks.md, "Coordinator capacity"). Here buffers up to 64 MiB come from malloc's heaps
// and up to 512 MiB of freed memory is kept for the next result. A process-wide setting, hence
// called by the program, never by the library.
namespace raven::coordinator {

void keepLargeBuffersInProcess();

}  // namespace raven::coordinator

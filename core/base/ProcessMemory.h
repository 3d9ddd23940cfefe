#pragma once
// ProcessMemory: a process keeps the memory of its large, short-lived buffers.
//
//   raven::keepLargeBuffersInProcess();   // once, at the start of a program that moves gradients
//
// Every result brings buffers of a gradient's size (0.94 MB for the MLP: the message, the assembled
// payload, the decoded floats, the encoded result), allocated on one thread and freed on another.
// glibc serves such sizes with fresh mmap()s or trims them back to the kernel, so each one is
// zero-filled page by page on first touch: page faults were a sixth of the coordinator's CPU under
// load (docs/benchmarks.md, "Coordinator capacity") and about a fifth of a worker's (the same,
// "Results handed in are no longer held"). Here buffers up to 64 MiB come from malloc's heaps and up
// to 512 MiB of freed memory is kept for the next one. A process-wide setting, hence called by the
// program, never by a library.
namespace raven {

void keepLargeBuffersInProcess();

}  // namespace raven

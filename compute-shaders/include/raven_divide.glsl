// raven_divide.glsl: n / d for a divisor d known when the dispatch is recorded but not when the shader
// is compiled (a tensor's extent), without an integer division instruction: GPUs emulate one in about
// twenty instructions and CPU implementations cannot vectorize it. The host computes (m, s1, s2) for d
// (core/vulkan/layers/DivisionMagic.h, the round-up method of Granlund and Montgomery); then for every
// 32-bit n, n / d = (t + ((n - t) >> s1)) >> s2 with t the high word of n * m.
#ifndef RAVEN_DIVIDE_GLSL
#define RAVEN_DIVIDE_GLSL

uint r_divide(uint n, uvec3 magic) {
    uint high, low;
    umulExtended(n, magic.x, high, low);
    return (high + ((n - high) >> magic.y)) >> magic.z;
}

#endif

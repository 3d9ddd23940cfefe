// Philox4x32-10, the same function as core/cpu/kernels/Philox.h, so that a dropout mask drawn on the
// device equals the CPU's bit for bit. 64-bit values travel as (low, high) uvec2: no shaderInt64 needed.

uvec4 philox4x32_10(uvec4 counter, uvec2 key) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) key += uvec2(0x9E3779B9u, 0xBB67AE85u);
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, counter.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, counter.z, hi1, lo1);
        counter = uvec4(hi1 ^ counter.y ^ key.x, lo1, hi0 ^ counter.w ^ key.y, lo0);
    }
    return counter;
}

// The random word of element `element` of stream `seed` (both (low, high)): word element % 4 of the
// block whose counter is element / 4.
uint philoxWord(uvec2 seed, uvec2 element) {
    const uvec2 block = uvec2((element.x >> 2) | (element.y << 30), element.y >> 2);
    const uvec4 words = philox4x32_10(uvec4(block, 0u, 0u), seed);
    return words[element.x & 3u];
}

// A uniform float in [0, 1) on a grid of 2^-24, exact in float32.
float uniformFromWord(uint word) { return float(word >> 8) * (1.0 / 16777216.0); }

// (low, high) + a 32-bit value, with the carry.
uvec2 add64(uvec2 value, uint addend) {
    uint carry;
    const uint low = uaddCarry(value.x, addend, carry);
    return uvec2(low, value.y + carry);
}

/** Naive divisor count: how many d in 1..limit divide n. */
export declare function countDivisors(n: number, limit: number): number;

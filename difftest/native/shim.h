/* pwdiff native shim: the C++ SDK's pure logic (regex, rules) behind a plain C interface over byte buffers,
 * so the Rust SDK can be compared with it natively (difftest/tests/native.rs). Bindings: bindgen (build.rs). */
#ifndef PWDIFF_SHIM_H
#define PWDIFF_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A byte buffer owned by the shim; release it with pwd_buf_free. */
typedef struct pwd_buf {
  uint8_t* data;
  size_t len;
} pwd_buf;

void pwd_buf_free(pwd_buf* buf);

typedef struct pwd_regex pwd_regex;

/* Compiles `pattern`; NULL on failure with the SDK's error text in `*error`. */
pwd_regex* pwd_regex_compile(const uint8_t* pattern, size_t pattern_len, int case_insensitive, pwd_buf* error);
/* 1 when the whole input matches. */
int pwd_regex_full_match(const pwd_regex* re, const uint8_t* input, size_t input_len);
void pwd_regex_free(pwd_regex* re);
/* The pattern's cost (README "Limits") when it parses: 1 and `*cost` set, else 0. */
int pwd_regex_cost(const uint8_t* pattern, size_t pattern_len, uint64_t* cost);

/* `:authority` -> host, as the rules see it. */
pwd_buf pwd_host_from_authority(const uint8_t* authority, size_t len);

/* A rule set over the test configuration type
 *   {"name": optional non-empty string, "urls": [non-empty string], "code": u32, "flag": bool}
 * (unknown keys rejected), the same type the Rust side declares in tests/native.rs. */
typedef struct pwd_rules pwd_rules;

/* Parses configuration bytes; NULL on failure with "invalid configuration: <path>: <reason>" in `*error`. */
pwd_rules* pwd_rules_parse(const uint8_t* bytes, size_t len, pwd_buf* error);
void pwd_rules_free(pwd_rules* rules);

/* One optional input: present == 0 means missing. */
typedef struct pwd_input {
  const uint8_t* data;
  size_t len;
  int present;
} pwd_input;

/* Selection result kinds. */
enum { PWD_NONE = 0, PWD_GLOBAL = 1, PWD_RULE = 2, PWD_DISABLED = 3 };

/* Matches a request. Returns the kind; `*rule_index` is the first matching rule (PWD_RULE, PWD_DISABLED) and
 * `*config` describes the selected configuration as canonical text (name|urls|code|flag) for PWD_RULE and
 * PWD_GLOBAL. */
int pwd_rules_select(const pwd_rules* rules, pwd_input authority, pwd_input route_name, pwd_input cluster_name,
                     int64_t* rule_index, pwd_buf* config);

#ifdef __cplusplus
}
#endif

#endif

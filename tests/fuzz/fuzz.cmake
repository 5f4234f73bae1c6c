# Fuzz targets (tests/fuzz/, libFuzzer) and the replay of their corpora and saved crashes
# (tests/fuzz_regressions/, GoogleTest, built in every native test build).
# Included from the top-level CMakeLists.txt after the module libraries are defined.
#
#   -DT4DX_FUZZ=ON (clang; use with -DT4DX_SANITIZE=address,undefined) builds <target>_fuzzer
#   for each name in T4DX_FUZZ_TARGETS, plus fuzz_make_corpus. scripts/fuzz.sh drives them.

set(T4DX_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
set(T4DX_FUZZ_TARGETS wal_line wal_file segment manifest hnsw_container service_json)
# Modules each target needs (object libraries t4dx_<module>).
set(_fuzz_modules_wal_line util env wal)
set(_fuzz_modules_wal_file util env wal)
set(_fuzz_modules_segment util env segment)
set(_fuzz_modules_manifest util env segment manifest)
set(_fuzz_modules_hnsw_container util env vector)
set(_fuzz_modules_service_json util env)

# The service's request parsers are pure functions of the JSON (no HTTP): fuzzed directly.
set(_svc_dir ${CMAKE_SOURCE_DIR}/core/tools/service)
set(_svc_src ${_svc_dir}/json_body.cc ${_svc_dir}/request_parsing.cc ${_svc_dir}/api_status.cc
             ${_svc_dir}/ids.cc)
set(_fuzz_have_service ON)
foreach(f ${_svc_src})
  if(NOT EXISTS ${f})
    set(_fuzz_have_service OFF)
  endif()
endforeach()

# Adds the sources and settings shared by a fuzzer and the regression test.
function(t4dx_fuzz_setup target with_service)
  target_sources(${target} PRIVATE ${T4DX_FUZZ_DIR}/fuzz_support.cc)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/core/include
                             ${CMAKE_SOURCE_DIR}/core/src ${T4DX_FUZZ_DIR})
  if(_fuzz_have_service AND with_service)
    target_sources(${target} PRIVATE ${_svc_src})
    target_include_directories(${target} PRIVATE ${_svc_dir})
    target_compile_definitions(${target} PRIVATE T4DX_FUZZ_HAVE_SERVICE=1)
  endif()
  target_link_libraries(${target} PRIVATE Threads::Threads)
endfunction()

if(T4DX_BUILD_TESTS AND NOT EMSCRIPTEN)
  t4dx_module_test(fuzz_regressions ${T4DX_MODULES})
  if(TARGET test_fuzz_regressions)
    foreach(t ${T4DX_FUZZ_TARGETS})
      target_sources(test_fuzz_regressions PRIVATE ${T4DX_FUZZ_DIR}/${t}_fuzzer.cc)
    endforeach()
    t4dx_fuzz_setup(test_fuzz_regressions ON)
    target_compile_definitions(test_fuzz_regressions PRIVATE
                               T4DX_FUZZ_DATA_DIR="${T4DX_FUZZ_DIR}")
  endif()
endif()

if(T4DX_FUZZ AND NOT EMSCRIPTEN)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "T4DX_FUZZ=ON needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Coverage feedback for the code under test; the fuzzers link libFuzzer's main.
  foreach(m ${T4DX_MODULES})
    if(TARGET t4dx_${m})
      target_compile_options(t4dx_${m} PRIVATE -fsanitize=fuzzer-no-link)
    endif()
  endforeach()
  # A known, harmless hnswlib prefetch overflow (see the file) is not reported.
  if(TARGET t4dx_vector)
    target_compile_options(t4dx_vector PRIVATE
                           -fsanitize-ignorelist=${T4DX_FUZZ_DIR}/ubsan_ignorelist.txt)
  endif()
  foreach(t ${T4DX_FUZZ_TARGETS})
    set(_objs "")
    foreach(m ${_fuzz_modules_${t}})
      list(APPEND _objs $<TARGET_OBJECTS:t4dx_${m}>)
    endforeach()
    add_executable(${t}_fuzzer ${T4DX_FUZZ_DIR}/${t}_fuzzer.cc ${_objs})
    if(t STREQUAL "service_json")
      t4dx_fuzz_setup(${t}_fuzzer ON)
    else()
      t4dx_fuzz_setup(${t}_fuzzer OFF)
    endif()
    target_compile_definitions(${t}_fuzzer PRIVATE T4DX_FUZZER_ENTRY=1)
    target_compile_options(${t}_fuzzer PRIVATE -fsanitize=fuzzer)
    target_link_options(${t}_fuzzer PRIVATE -fsanitize=fuzzer)
  endforeach()
  # Regenerates tests/fuzz/corpus/ from a store the engine writes (scripts/fuzz.sh --make-corpus).
  add_executable(fuzz_make_corpus ${T4DX_FUZZ_DIR}/make_corpus.cc ${T4DX_OBJECTS})
  target_include_directories(fuzz_make_corpus PRIVATE ${CMAKE_SOURCE_DIR}/core/include
                             ${CMAKE_SOURCE_DIR}/core/src)
  target_link_libraries(fuzz_make_corpus PRIVATE Threads::Threads)
endif()

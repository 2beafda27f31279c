# incremental_vs_full.cmake - every fixture, checked incrementally (the
# default) and with a full check after every step, must report the same
# outcome and the same violation (ID) at the same step (on GUEST, if given,
# for the files without a guest statement).
foreach(mode incremental full)
  set(extra)
  if(mode STREQUAL "full")
    set(extra --full-checks)
  endif()
  if(GUEST)	# files without a guest statement run on GUEST
    list(APPEND extra --guest ${GUEST})
  endif()
  execute_process(COMMAND ${RIG} run --format json ${extra} fixtures/ WORKING_DIRECTORY ${WORKDIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "\"summary\":{\"passed\":[1-9][0-9]*,\"failed\":0,\"errors\":0,\"skipped\":[0-9]+}")
    message(FATAL_ERROR "rig run (${mode}) exited ${rc}:\n${out}\n${err}")
  endif()
  # Same outcome, step count, line, kind and ID; the wording of the evidence
  # may differ (the per-step check can also name the write that caused it).
  string(REGEX REPLACE ",\"ms\":[0-9.]+" "" out "${out}")
  string(REGEX REPLACE ",\"message\":\"([^\"\\\\]|\\\\.)*\"" "" out "${out}")
  set(${mode} "${out}")
endforeach()
if(NOT incremental STREQUAL full)
  message(FATAL_ERROR "incremental and full checks disagree:\n--- incremental\n${incremental}\n--- full\n${full}")
endif()

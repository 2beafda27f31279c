# trace_golden.cmake - `rig trace SCN --format json` twice: both runs must be
# byte-identical (determinism) and equal to GOLDEN.
foreach(i 1 2)
  execute_process(COMMAND ${RIG} trace ${SCN} --format json WORKING_DIRECTORY ${WORKDIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out${i} ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "rig trace ${SCN} exited ${rc}: ${err}")
  endif()
endforeach()
if(NOT out1 STREQUAL out2)
  message(FATAL_ERROR "two runs of rig trace ${SCN} differ")
endif()
file(READ ${WORKDIR}/${GOLDEN} want)
if(NOT out1 STREQUAL want)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/trace-got.json "${out1}")
  message(FATAL_ERROR "rig trace ${SCN} differs from ${GOLDEN}; got ${CMAKE_CURRENT_BINARY_DIR}/trace-got.json "
    "(if the guest changed on purpose: scripts/update-goldens.sh)")
endif()

# The text form too, against GOLDEN_TEXT (no colour: stdout is not a terminal).
string(REGEX REPLACE "\\.json$" ".txt" golden_text ${GOLDEN})
execute_process(COMMAND ${RIG} trace ${SCN} WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
file(READ ${WORKDIR}/${golden_text} want_text)
if(NOT rc EQUAL 0 OR NOT text STREQUAL want_text)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/trace-got.txt "${text}")
  message(FATAL_ERROR "rig trace ${SCN} (text) differs from ${golden_text}; got ${CMAKE_CURRENT_BINARY_DIR}/trace-got.txt")
endif()

# trace_golden.cmake - `rig trace SCN --stable --format json` twice: both runs
# must be byte-identical (determinism) and equal to GOLDEN; the text form
# (`--stable`) must equal GOLDEN with .txt for .json. --stable leaves out
# instruction addresses, disassembly and symbol offsets, so the goldens hold
# behaviour (which function wrote which entry, old and new values, the order)
# and not the guest's code layout.
set(why "This is a change of behaviour (which entries the guest writes, with which values, \
in which order, from which function), not of code layout. First read the diff \
between the golden file and the output above (diff -u GOLDEN GOT) and decide whether \
the new behaviour is intended; only then regenerate with scripts/update-goldens.sh \
and commit the golden with an explanation of the behaviour change.")
foreach(i 1 2)
  execute_process(COMMAND ${RIG} trace ${SCN} --stable --format json WORKING_DIRECTORY ${WORKDIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out${i} ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "rig trace ${SCN} exited ${rc}: ${err}")
  endif()
endforeach()
if(NOT out1 STREQUAL out2)
  message(FATAL_ERROR "two runs of rig trace ${SCN} differ: the trace is not deterministic")
endif()
file(READ ${WORKDIR}/${GOLDEN} want)
if(NOT out1 STREQUAL want)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/trace-got.json "${out1}")
  message(FATAL_ERROR "rig trace ${SCN} --stable differs from ${GOLDEN}; got "
    "${CMAKE_CURRENT_BINARY_DIR}/trace-got.json.\n${why}")
endif()

# The text form too, against GOLDEN_TEXT (no colour: stdout is not a terminal).
string(REGEX REPLACE "\\.json$" ".txt" golden_text ${GOLDEN})
execute_process(COMMAND ${RIG} trace ${SCN} --stable WORKING_DIRECTORY ${WORKDIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
file(READ ${WORKDIR}/${golden_text} want_text)
if(NOT rc EQUAL 0 OR NOT text STREQUAL want_text)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/trace-got.txt "${text}")
  message(FATAL_ERROR "rig trace ${SCN} --stable (text) differs from ${golden_text}; got "
    "${CMAKE_CURRENT_BINARY_DIR}/trace-got.txt.\n${why}")
endif()

# CTest driver (cmake -P): installs the krope build at BUILD_DIR into a scratch prefix, then
# configures, builds and (when RUN is true) runs the find_package and add_subdirectory consumers.
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR KOKKOS_DIR CXX_COMPILER RUN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()

run_step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
set(common -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR}/cmake/install_test/find_package
         -B ${WORK_DIR}/find_package ${common} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/find_package)
run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR}/cmake/install_test/add_subdirectory
         -B ${WORK_DIR}/add_subdirectory ${common} -DKROPE_SOURCE_DIR=${SOURCE_DIR}
         -DKokkos_DIR=${KOKKOS_DIR} -DKROPE_ENABLE_TESTS=OFF -DKROPE_ENABLE_EXAMPLES=OFF)
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/add_subdirectory)
if(RUN)
  run_step(${WORK_DIR}/find_package/consumer)
  run_step(${WORK_DIR}/add_subdirectory/consumer)
endif()

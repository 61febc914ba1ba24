#pragma once
/// \file krope.hpp
/// Umbrella header: everything a krope user needs.

#include <krope/apply.hpp>
#include <krope/bfloat16.hpp>
#include <krope/config.hpp>
#include <krope/context_parallel.hpp>
#include <krope/float16.hpp>
#include <krope/frequencies.hpp>
#include <krope/huggingface.hpp>
#include <krope/multimodal_positions.hpp>
#include <krope/positions.hpp>
#include <krope/reference.hpp>
#include <krope/rotary_shape.hpp>
#include <krope/spectrum.hpp>
#include <krope/table.hpp>
#include <krope/version.hpp>

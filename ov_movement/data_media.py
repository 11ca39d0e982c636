"""Former home of the image and audio readers; kept so that existing imports work: ov_movement.data.media."""

from ov_movement.data.media import (
    ARRAY_SOURCES,
    AUDIO_SUFFIXES,
    FOLDER_SOURCES,
    IMAGE_SUFFIXES,
    class_folder_files,
    read_array_source,
    read_wav,
)

__all__ = [
    "ARRAY_SOURCES",
    "AUDIO_SUFFIXES",
    "FOLDER_SOURCES",
    "IMAGE_SUFFIXES",
    "class_folder_files",
    "read_array_source",
    "read_wav",
]

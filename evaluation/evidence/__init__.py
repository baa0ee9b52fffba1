"""佐证材料 (docs/evidence.md): the evidence store every room links files to.

``operations`` (add, link, unlink, who may see), ``store`` (a directory or an S3 bucket,
content-addressed), ``sniff`` (the type by content, the zip-bomb guard, clean names),
``exif`` (a photo's time and position), ``web`` (download, thumbnail, the list partial).
"""
